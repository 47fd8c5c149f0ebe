// Command ingestd serves only the usage routes, without authentication, for the ingestion crash
// test and benchmarks that need a separate API process. It prints "listening <addr>" once ready.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/revhub/revhub/internal/api"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/server"
	"github.com/revhub/revhub/internal/usage"
)

func main() {
	url := flag.String("database-url", db.DefaultURL, "PostgreSQL URL (migrated)")
	listen := flag.String("listen", "127.0.0.1:0", "listen address")
	meters := flag.String("meters", "", "meters YAML file to load")
	inflight := flag.Int("max-inflight", 16, "batches being ingested at once")
	conns := flag.Int("db-max-conns", 16, "pool size")
	flag.Parse()
	if err := run(*url, *listen, *meters, *inflight, int32(*conns)); err != nil {
		fmt.Fprintln(os.Stderr, "ingestd:", err)
		os.Exit(1)
	}
}

func run(url, listen, meters string, inflight int, conns int32) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	server.TuneGC(server.DefaultGCPercent, server.DefaultMemoryLimit) // as revhub api
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	pool, err := db.Open(ctx, url, db.PoolOptions{MaxConns: conns})
	if err != nil {
		return err
	}
	defer pool.Close()
	if meters != "" {
		if _, err := usage.LoadMeterFile(ctx, pool, meters); err != nil {
			return err
		}
	}
	in, err := usage.NewIngester(ctx, pool, usage.IngesterOptions{MaxInFlight: inflight, Logger: log})
	if err != nil {
		return err
	}
	defer in.Close()
	mux := http.NewServeMux()
	for _, r := range api.UsageRoutes(in, log) {
		h, limit := r.Handler, r.MaxBody
		if limit == 0 {
			limit = api.DefaultMaxBody
		}
		mux.HandleFunc(r.Method+" "+r.Path, func(w http.ResponseWriter, req *http.Request) {
			req.Body = http.MaxBytesReader(w, req.Body, limit)
			h(w, req)
		})
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", ln.Addr())
	srv := &http.Server{Handler: mux}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}
