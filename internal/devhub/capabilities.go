package devhub

import (
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/revhub/revhub/internal/api"
)

// capabilities builds the API's capability services for the dev stack.
func capabilities(pool *pgxpool.Pool, tc client.Client, o Options, log *slog.Logger) api.Capabilities {
	_, _, _, _ = pool, tc, o, log
	return api.Capabilities{}
}
