package devhub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/revhub/revhub/internal/apikey"
	"github.com/revhub/revhub/internal/audit"
)

// seedEnv is what seeding steps get.
type seedEnv struct {
	pool     *pgxpool.Pool
	temporal client.Client
	opts     Options
	log      *slog.Logger
	apiURL   string
}

// seedStep is one capability's demo data; each capability appends its step to seedSteps.
type seedStep struct {
	name string
	run  func(ctx context.Context, env seedEnv) ([]Endpoint, error)
}

// seedSteps run in order on every `revhub dev` start; each must be idempotent.
var seedSteps = []seedStep{
	{"dev API key", seedAPIKey},
	{"salesforce intake", seedSalesforceIntake},
	{"erp sync schedules", seedERPSchedules},
	{"month-end close", seedClose},
}

// seed runs every step; this is the one place demo data comes from.
func seed(ctx context.Context, env seedEnv) ([]Endpoint, error) {
	var out []Endpoint
	var errs []error
	for _, s := range seedSteps {
		eps, err := s.run(ctx, env)
		if err != nil {
			errs = append(errs, fmt.Errorf("seed %s: %w", s.name, err))
			continue
		}
		out = append(out, eps...)
	}
	return out, errors.Join(errs...)
}

// seedAPIKey creates an admin key for the developer once and keeps its secret in a 0600 file
// of the data dir (the secret is never printed or logged).
func seedAPIKey(ctx context.Context, env seedEnv) ([]Endpoint, error) {
	path := filepath.Join(env.opts.DataDir, "api-key")
	if b, err := os.ReadFile(path); err == nil {
		if _, err := apikey.Verify(ctx, env.pool, string(b), nowFunc()); err == nil {
			return []Endpoint{{"API key (admin)", path, "curl -H \"Authorization: Bearer $(cat " + path + ")\""}}, nil
		}
	}
	c, err := apikey.Create(ctx, env.pool, "revhub-dev", []string{"admin"}, 0, nil)
	if err != nil {
		return nil, err
	}
	if _, err := audit.Record(ctx, env.pool, "revhub-dev", "apikey.create", c.Key.ID, "dev stack start", nil); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(c.Secret), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return []Endpoint{{"API key (admin)", path, "curl -H \"Authorization: Bearer $(cat " + path + ")\""}}, nil
}
