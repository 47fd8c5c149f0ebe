package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/revhub/revhub/internal/usage/bench"
)

// benchIngestCommand is `revhub bench ingest`: load a running API with usage events and verify the totals.
func benchIngestCommand() *cli.Command {
	return &cli.Command{
		Name:  "ingest",
		Usage: "send realistic usage events to a running revhub API, report events/s, latency and peak RSS, verify the totals",
		Flags: concat(logFlags(), []cli.Flag{
			&cli.StringFlag{Name: "url", Value: "http://127.0.0.1:8080", Usage: "base URL of the revhub API", Sources: cli.EnvVars("REVHUB_URL")},
			&cli.StringFlag{Name: "api-key", Usage: "API key with events:write, read and admin scopes", Sources: cli.EnvVars("REVHUB_API_KEY")},
			&cli.DurationFlag{Name: "duration", Value: 60 * time.Second, Usage: "how long to send load"},
			&cli.IntFlag{Name: "workers", Value: 16, Usage: "concurrent HTTP clients"},
			&cli.IntFlag{Name: "batch-size", Value: 5000, Usage: "events per request, duplicates included (at most 10000)"},
			&cli.IntFlag{Name: "customers", Value: 1000, Usage: "distinct subjects"},
			&cli.IntFlag{Name: "dup-per-mille", Value: 20, Usage: "events per 1000 that repeat an earlier event"},
			&cli.IntFlag{Name: "retry-per-mille", Value: 10, Usage: "acknowledged batches per 1000 sent again whole"},
			&cli.IntFlag{Name: "late-per-mille", Value: 50, Usage: "events per 1000 that are hours to days old"},
			&cli.IntFlag{Name: "api-pid", Usage: "process id of the API, for its peak RSS (default: sample /metrics)"},
			&cli.StringFlag{Name: flagDatabaseURL, Usage: "PostgreSQL behind the API, to report its shared_buffers, max_wal_size and checkpoints during the load (default: not reported)", Sources: cli.EnvVars("REVHUB_BENCH_DATABASE_URL")},
		}),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			log, err := newLogger(cmd)
			if err != nil {
				return err
			}
			key := cmd.String("api-key")
			rep, err := bench.Run(ctx, bench.Options{
				URL: cmd.String("url"), APIKey: key, Duration: cmd.Duration("duration"),
				Workers: int(cmd.Int("workers")), BatchSize: int(cmd.Int("batch-size")), Customers: int(cmd.Int("customers")),
				DupShare: int(cmd.Int("dup-per-mille")), RetryShare: int(cmd.Int("retry-per-mille")), LateShare: int(cmd.Int("late-per-mille")),
				APIPID: int(cmd.Int("api-pid")), DatabaseURL: cmd.String(flagDatabaseURL), Log: log,
			})
			if rep != nil {
				bench.Print(cmd.Root().Writer, rep)
			}
			if err != nil {
				return err
			}
			if !rep.Verified {
				fmt.Fprintln(os.Stderr, "stored totals differ from the generator's")
				return fmt.Errorf("bench ingest: verification failed")
			}
			return nil
		},
	}
}
