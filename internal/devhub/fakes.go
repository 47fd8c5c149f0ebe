package devhub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"
)

// startFakes runs the fake Salesforce, NetSuite and PayPal servers. Each capability adds its fake here.
func startFakes(ctx context.Context, g *errgroup.Group, o Options, log *slog.Logger) ([]Endpoint, error) {
	var eps []Endpoint
	ns, err := startNetSuiteFake(ctx, g, o, log)
	if err != nil {
		return nil, err
	}
	eps = append(eps, ns...)
	pays, err := startPaymentFakes(ctx, g, o, log)
	if err != nil {
		return nil, err
	}
	eps = append(eps, pays...)
	sf, err := startSalesforceFake(ctx, g, o, log)
	if err != nil {
		return nil, err
	}
	eps = append(eps, sf...)
	return eps, nil
}

// serveFake listens on addr, serves h in g until ctx ends, then shuts the server down; it returns the base URL.
func serveFake(ctx context.Context, g *errgroup.Group, log *slog.Logger, name, addr string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("fake %s: listen on %s: %w", name, addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("fake %s: %w", name, err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("fake shutdown", "fake", name, "err", err)
		}
		return nil
	})
	return "http://" + ln.Addr().String(), nil
}
