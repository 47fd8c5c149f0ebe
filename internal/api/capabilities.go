package api

import (
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
)

// Capabilities are the services behind the capability routes. Each capability adds its fields
// here and its route list to CapabilityRoutes; a nil service still declares its routes (so the
// route table and the OpenAPI check see them) and its handlers answer 503.
type Capabilities struct {
	Pool     *pgxpool.Pool
	Temporal client.Client
	Log      *slog.Logger
	Codec    CodecOptions // the Temporal UI's codec server (payload encryption)
}

// CapabilityRoutes is the production list of capability routes.
func CapabilityRoutes(c Capabilities) []Route {
	var out []Route
	out = append(out, CodecRoutes(c.Codec)...)
	return out
}
