package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/revhub/revhub/internal/bench/chaosclose"
	"github.com/revhub/revhub/internal/db"
)

// benchCloseCommand is `revhub bench close [--chaos]`: the demo month-end close of every dev entity
// on a dedicated stack, with the worker SIGKILLed at random points and faulty providers under
// --chaos, verified exactly at the end.
func benchCloseCommand() *cli.Command {
	return &cli.Command{
		Name:  "close",
		Usage: "run the demo month-end closes on a dedicated stack (with --chaos: worker SIGKILLs and 429/5xx from every provider), then verify every record exactly",
		Description: "Starts its own Temporal dev server, stripe-mock, fakes and API (as `revhub dev`, on free ports, with the\n" +
			"deliberately broken demo deal reopened so that every close can end green), runs `revhub worker` as a separate\n" +
			"process and lets the seeded demo closes run. With --chaos the worker is SIGKILLed --kills times at random\n" +
			"points and restarted, and the fake Salesforce, NetSuite, PayPal and Stripe answer --fault-rate of their\n" +
			"requests with 429 or 5xx. At the end: each close done and green, every reconciliation green, one invoice per\n" +
			"contract and period with gap-free numbers, one charge per invoice at the provider, every ledger entry balanced\n" +
			"and posted to NetSuite exactly once. Exits non-zero on any difference.",
		Flags: concat(logFlags(), childToolFlags(), []cli.Flag{
			&cli.BoolFlag{Name: "chaos", Usage: "kill the worker and inject provider faults during the close"},
			&cli.IntFlag{Name: "kills", Value: 5, Usage: "worker SIGKILLs during the close (with --chaos)"},
			&cli.FloatFlag{Name: "fault-rate", Value: 0.10, Usage: "share of fake provider requests answered 429 or 5xx (with --chaos)"},
			&cli.Uint64Flag{Name: "seed", Usage: "seed of the kill times and faults (default: the clock; printed, so a run can be repeated)"},
			&cli.DurationFlag{Name: "kill-min", Value: time.Second, Usage: "shortest time between two kills"},
			&cli.DurationFlag{Name: "kill-max", Value: 4 * time.Second, Usage: "longest time between two kills"},
			&cli.IntFlag{Name: "extra-deals", Value: 10, Usage: "copies of each won demo deal added to the fake org (each its own customer), for volume; -1 for none"},
			&cli.DurationFlag{Name: "timeout", Value: 15 * time.Minute, Usage: "give up after this long"},
			&cli.StringFlag{Name: flagDatabaseURL, Value: db.DefaultURL, Usage: "PostgreSQL server; the run uses a new database revhub_close_<time> on it", Sources: cli.EnvVars("REVHUB_BENCH_DATABASE_URL")},
			&cli.BoolFlag{Name: "keep-database", Usage: "keep the run's database afterwards (it is dropped by default)"},
			&cli.StringFlag{Name: "data-dir", Usage: "keep the stack's state and logs (worker.log, temporal.log) here (default: a temporary directory, removed)"},
		}),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			log, err := newLogger(cmd)
			if err != nil {
				return err
			}
			u, err := url.Parse(cmd.String(flagDatabaseURL))
			if err != nil {
				return fmt.Errorf("--%s: %w", flagDatabaseURL, err)
			}
			u.Path = "/revhub_close_" + strconv.FormatInt(time.Now().Unix(), 10)
			runURL := u.String()
			if !cmd.Bool("keep-database") {
				defer func() {
					if err := db.DropDatabase(context.WithoutCancel(ctx), runURL); err != nil {
						log.Warn("dropping the run's database", "url", runURL, "err", err)
					}
				}()
			}
			rep, err := chaosclose.Run(ctx, chaosclose.Options{
				DatabaseURL: runURL, Chaos: cmd.Bool("chaos"), Kills: int(cmd.Int("kills")), FaultRate: cmd.Float("fault-rate"),
				Seed: cmd.Uint64("seed"), KillMin: cmd.Duration("kill-min"), KillMax: cmd.Duration("kill-max"), Timeout: cmd.Duration("timeout"), ExtraDeals: int(cmd.Int("extra-deals")),
				DataDir: cmd.String("data-dir"), TemporalCLI: cmd.String("temporal-cli"), StripeMockBin: cmd.String("stripe-mock-bin"), Log: log,
			})
			if rep != nil {
				chaosclose.Print(cmd.Root().Writer, rep)
			}
			if err != nil {
				return err
			}
			if !rep.OK() {
				return fmt.Errorf("bench close: %d differences", len(rep.Differences))
			}
			return nil
		},
	}
}
