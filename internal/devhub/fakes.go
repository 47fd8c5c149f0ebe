package devhub

import (
	"context"
	"log/slog"

	"golang.org/x/sync/errgroup"
)

// startFakes runs the fake Salesforce, NetSuite and PayPal servers. Each capability adds its fake here.
func startFakes(ctx context.Context, g *errgroup.Group, o Options, log *slog.Logger) ([]Endpoint, error) {
	_, _, _ = ctx, g, log
	return nil, nil
}
