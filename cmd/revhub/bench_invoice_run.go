package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/revhub/revhub/internal/bench/invoicerun"
	"github.com/revhub/revhub/internal/db"
)

// benchInvoiceRunCommand is `revhub bench invoice-run`: invoice and collect N contracts end to end
// through Temporal against the payment fakes, verify the outcome exactly and print the figures.
func benchInvoiceRunCommand() *cli.Command {
	return &cli.Command{
		Name:  "invoice-run",
		Usage: "seed N contracts with usage, invoice and collect them all through Temporal, verify exactly, report wall time, invoices/s, latency and peak RSS",
		Description: "Starts stripe-mock with the Stripe layer and the PayPal fake in-process, an in-process worker, and (unless\n" +
			"--temporal-address is given) a dedicated `temporal server start-dev`. Use a database of its own: the run adds\n" +
			"N contracts, invoices, payments and ledger entries to it.",
		Flags: concat(logFlags(), []cli.Flag{
			&cli.StringFlag{Name: flagDatabaseURL, Value: "postgres://postgres@127.0.0.1:5432/revhub_bench?sslmode=disable", Usage: "PostgreSQL URL (created and migrated if missing)", Sources: cli.EnvVars("REVHUB_BENCH_DATABASE_URL")},
			&cli.StringFlag{Name: flagTemporalAddress, Usage: "Temporal frontend host:port; empty starts a dedicated dev server", Sources: cli.EnvVars("REVHUB_BENCH_TEMPORAL_ADDRESS")},
			&cli.StringFlag{Name: "temporal-db-file", Usage: "SQLite file of the dedicated dev server (empty: in memory)"},
			&cli.StringSliceFlag{Name: "temporal-arg", Usage: "extra argument for `temporal server start-dev` (repeatable), e.g. --temporal-arg=--dynamic-config-value --temporal-arg=limit.x=1"},
			&cli.StringFlag{Name: flagTaskQueue, Usage: "task queue of the run (default: a fresh one)"},
			&cli.IntFlag{Name: "contracts", Value: 10000, Usage: "contracts to invoice and collect"},
			&cli.StringFlag{Name: "period", Usage: "billed month YYYY-MM (default: the previous month)"},
			&cli.IntFlag{Name: "start-concurrency", Value: 64, Usage: "workflow starts in flight"},
			&cli.IntFlag{Name: "seed-concurrency", Value: 8, Usage: "contract inserts and ingest batches in flight"},
			&cli.IntFlag{Name: "pool-size", Value: 12, Usage: "PostgreSQL connections of the worker (on 2 cores more connections cost PostgreSQL more CPU than they win)"},
			&cli.IntFlag{Name: "max-concurrent-activities", Value: 200, Usage: "worker: activities executing at once"},
			&cli.IntFlag{Name: "max-concurrent-workflow-tasks", Value: 1000, Usage: "worker: workflow tasks executing at once (a billing cycle's task holds its slot while its PostgreSQL steps and first charge run as local activities)"},
			&cli.IntFlag{Name: "activity-pollers", Value: 8, Usage: "worker: activity task pollers"},
			&cli.IntFlag{Name: "workflow-pollers", Value: 8, Usage: "worker: workflow task pollers"},
			&cli.DurationFlag{Name: "timeout", Value: 30 * time.Minute, Usage: "give up after this long"},
			&cli.BoolFlag{Name: "eager-start", Value: true, Usage: "eager workflow start: the first task goes straight to the in-process worker (the dedicated dev server enables system.enableEagerWorkflowStart; an existing server needs it set); --eager-start=false dispatches through the task queue, as cycles started by the month-end close are"},
			&cli.StringFlag{Name: "cpu-profile", Usage: "write a CPU profile of the bench process (worker, fakes) during the run to this file"},
		}),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			log, err := newLogger(cmd)
			if err != nil {
				return err
			}
			var period time.Time
			if s := cmd.String("period"); s != "" {
				if period, err = time.Parse("2006-01", s); err != nil {
					return fmt.Errorf("--period: %q is not YYYY-MM", s)
				}
			}
			url := cmd.String(flagDatabaseURL)
			if err := db.EnsureDatabase(ctx, url); err != nil {
				return err
			}
			if _, err := db.MigrateUp(ctx, url, nil); err != nil {
				return err
			}
			rep, err := invoicerun.Run(ctx, invoicerun.Options{
				DatabaseURL: url, TemporalAddress: cmd.String(flagTemporalAddress), TemporalDBFile: cmd.String("temporal-db-file"),
				TemporalArgs: cmd.StringSlice("temporal-arg"), TaskQueue: cmd.String(flagTaskQueue),
				Contracts: int(cmd.Int("contracts")), PeriodStart: period, StartConcurrency: int(cmd.Int("start-concurrency")),
				SeedConcurrency: int(cmd.Int("seed-concurrency")), PoolSize: int(cmd.Int("pool-size")),
				MaxConcurrentActivities: int(cmd.Int("max-concurrent-activities")), MaxConcurrentWorkflowTasks: int(cmd.Int("max-concurrent-workflow-tasks")),
				ActivityPollers: int(cmd.Int("activity-pollers")), WorkflowPollers: int(cmd.Int("workflow-pollers")),
				Timeout: cmd.Duration("timeout"), CPUProfile: cmd.String("cpu-profile"), EagerStart: cmd.Bool("eager-start"), Log: log,
			})
			if rep != nil {
				invoicerun.Print(cmd.Root().Writer, rep)
			}
			if err != nil {
				return err
			}
			if !rep.Verification.OK() {
				return fmt.Errorf("bench invoice-run: verification failed with %d differences", len(rep.Verification.Differences))
			}
			return nil
		},
	}
}
