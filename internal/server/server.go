// Package server runs the HTTP API process: it composes the capability routes over their
// services and serves them with timeouts and a graceful shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/revhub/revhub/internal/api"
)

// Options configure the API process.
type Options struct {
	Listen          string
	MaxBody         int64
	ShutdownTimeout time.Duration
}

// Build assembles the API handler over its dependencies.
func Build(pool *pgxpool.Pool, tc client.Client, log *slog.Logger, o Options, caps api.Capabilities) *api.Server {
	return api.New(api.Deps{
		Pool:     pool,
		Temporal: tc,
		Log:      log,
		MaxBody:  o.MaxBody,
		Routes:   api.CapabilityRoutes(caps),
	})
}

// Serve listens on o.Listen and serves h until ctx ends, then drains for o.ShutdownTimeout.
// ready, when not nil, receives the bound address once listening.
func Serve(ctx context.Context, h http.Handler, o Options, log *slog.Logger, ready func(addr string)) error {
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("api listen %s: %w", o.Listen, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("api serve: %w", err)
	case <-ctx.Done():
	}
	timeout := o.ShutdownTimeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("api shutdown: %w", err)
	}
	return nil
}
