package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/urfave/cli/v3"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/internal/api"
	"github.com/revhub/revhub/internal/codec"
	"github.com/revhub/revhub/internal/config"
	"github.com/revhub/revhub/internal/devhub"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/internal/payment/gateway"
	"github.com/revhub/revhub/internal/recon"
	"github.com/revhub/revhub/internal/revrec"
	"github.com/revhub/revhub/internal/server"
	"github.com/revhub/revhub/internal/usage"
	"github.com/revhub/revhub/internal/worker"
	"github.com/revhub/revhub/workflows"
)

// loadCodec reads the payload codec keys (REVHUB_CODEC_KEYS or REVHUB_CODEC_KEYS_FILE); without
// keys, payloads are not encrypted and a warning says so.
func loadCodec(log *slog.Logger) (*codec.Codec, error) {
	c, err := codec.Load(os.Getenv)
	if errors.Is(err, codec.ErrNoKeys) {
		log.Warn("workflow payloads are NOT encrypted: set REVHUB_CODEC_KEYS or REVHUB_CODEC_KEYS_FILE (docs/security.md)")
		return nil, nil
	}
	return c, err
}

// temporalOptions are the client options, with the codec's data converter when keys are set.
func temporalOptions(cmd *cli.Command, log *slog.Logger, c *codec.Codec) client.Options {
	o := client.Options{HostPort: cmd.String(flagTemporalAddress), Namespace: cmd.String(flagTemporalNamespace), Logger: tlog.NewStructuredLogger(log)}
	if c != nil {
		o = codec.ClientOptions(o, c)
	}
	return o
}

func serverOptions(cmd *cli.Command) server.Options {
	return server.Options{Listen: cmd.String(flagListen), MaxBody: cmd.Int64(flagMaxBody), ShutdownTimeout: cmd.Duration(flagShutdownTimeout)}
}

func apiCommand() *cli.Command {
	return &cli.Command{
		Name:  "api",
		Usage: "run the HTTP API (events, meters, contracts, invoices, reports, webhooks, close controls)",
		Flags: concat(databaseFlags(), temporalFlags(), apiFlags(), logFlags(), paymentFlags(), salesforceFlags(), []cli.Flag{
			&cli.BoolFlag{Name: "migrate", Usage: "apply pending migrations before serving", Sources: cli.EnvVars("REVHUB_MIGRATE")},
			&cli.StringFlag{Name: "meters-file", Usage: "YAML file of meters created (or checked unchanged) at start (docs/usage.md)", Sources: cli.EnvVars("REVHUB_METERS_FILE")},
			&cli.IntFlag{Name: "ingest-max-in-flight", Value: 16, Usage: "event batches being ingested at once (bodies in memory); more waiting get 503 with Retry-After", Sources: cli.EnvVars("REVHUB_INGEST_MAX_IN_FLIGHT")},
			&cli.IntFlag{Name: "ingest-committers", Value: 2, Usage: "event transactions at once, each storing the batches queued meanwhile together (at most ingest-max-in-flight)", Sources: cli.EnvVars("REVHUB_INGEST_COMMITTERS")},
			&cli.IntFlag{Name: "gc-percent", Value: server.DefaultGCPercent, Usage: "garbage collector growth target in percent (GOGC wins when set)", Sources: cli.EnvVars("REVHUB_GC_PERCENT")},
			&cli.IntFlag{Name: "memory-limit-mib", Value: server.DefaultMemoryLimit >> 20, Usage: "soft memory limit of the process in MiB (GOMEMLIMIT wins when set)", Sources: cli.EnvVars("REVHUB_MEMORY_LIMIT_MIB")},
			&cli.StringSliceFlag{Name: "codec-cors-origin", Value: []string{"http://localhost:8233", "http://127.0.0.1:8233"}, Usage: "Temporal UI origins allowed to call the codec endpoint", Sources: cli.EnvVars("REVHUB_CODEC_CORS_ORIGINS")},
		}),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			log, err := newLogger(cmd)
			if err != nil {
				return err
			}
			server.TuneGC(int(cmd.Int("gc-percent")), int64(cmd.Int("memory-limit-mib"))<<20)
			secrets, err := config.LoadSecrets(os.Getenv)
			if err != nil {
				return err
			}
			pool, err := openDB(ctx, cmd, cmd.Bool("migrate"), log)
			if err != nil {
				return err
			}
			defer pool.Close()
			cdc, err := loadCodec(log)
			if err != nil {
				return err
			}
			// A lazy client: the API starts and serves /readyz (503) even while Temporal is down.
			tc, err := client.NewLazyClient(temporalOptions(cmd, log, cdc))
			if err != nil {
				return fmt.Errorf("temporal client: %w", err)
			}
			defer tc.Close()
			gwc, err := paymentGatewayConfig(cmd, secrets)
			if err != nil {
				return err
			}
			gw, err := gateway.New(gwc, log)
			if err != nil {
				return err
			}
			if path := cmd.String("meters-file"); path != "" {
				if _, err := usage.LoadMeterFile(ctx, pool, path); err != nil {
					return fmt.Errorf("--meters-file: %w", err)
				}
			}
			ing, err := usage.NewIngester(ctx, pool, usage.IngesterOptions{
				MaxInFlight: int(cmd.Int("ingest-max-in-flight")), Committers: int(cmd.Int("ingest-committers")), Logger: log,
			})
			if err != nil {
				return err
			}
			defer ing.Close()
			sfPush, err := salesforceVerifier(pool, secrets)
			if err != nil {
				return err
			}
			caps := api.Capabilities{
				Pool: pool, Temporal: tc, Log: log, Usage: ing,
				SalesforceVerifier: sfPush, IntakeTaskQueue: cmd.String(flagTaskQueue), CloseTaskQueue: cmd.String(flagTaskQueue),
				Codec:    api.CodecOptions{Codec: cdc, AllowedOrigins: cmd.StringSlice("codec-cors-origin")},
				Payments: api.PaymentDeps{Service: payment.NewService(pool, gw.Registry, log), Stripe: gw.Stripe, PayPal: gw.PayPal, Log: log},
			}
			srv := server.Build(pool, tc, log, serverOptions(cmd), caps)
			return server.Serve(ctx, srv.Handler(), serverOptions(cmd), log, func(addr string) {
				log.Info("api listening", "addr", addr)
			})
		},
	}
}

func workerCommand() *cli.Command {
	return &cli.Command{
		Name:  "worker",
		Usage: "run the Temporal worker that executes revhub's workflows and activities",
		Flags: concat(databaseFlags(), temporalFlags(), logFlags(), paymentFlags(), salesforceFlags(), netsuiteFlags(), []cli.Flag{
			&cli.StringSliceFlag{Name: "close-entities", Usage: "billing entities whose month-end close (and billing cycles) run on a monthly schedule", Sources: cli.EnvVars("REVHUB_CLOSE_ENTITIES")},
			&cli.StringFlag{Name: "close-tolerances", Usage: "YAML file of reconciliation tolerances per check (docs/reconciliation.md); default: no difference allowed", Sources: cli.EnvVars("REVHUB_CLOSE_TOLERANCES")},
			&cli.DurationFlag{Name: "late-grace", Value: 2 * time.Hour, Usage: "late-event grace window after a billing period's end", Sources: cli.EnvVars("REVHUB_LATE_GRACE")},
			&cli.StringFlag{Name: "ssp-file", Usage: "YAML standalone selling price table for revenue allocation (docs/revenue-recognition.md); default: the built-in table", Sources: cli.EnvVars("REVHUB_SSP_FILE")},
			&cli.IntFlag{Name: "max-concurrent-activities", Value: 200, Usage: "activities this worker runs at once", Sources: cli.EnvVars("REVHUB_WORKER_MAX_ACTIVITIES")},
			&cli.BoolFlag{Name: "migrate", Usage: "apply pending migrations before starting", Sources: cli.EnvVars("REVHUB_MIGRATE")},
		}),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			log, err := newLogger(cmd)
			if err != nil {
				return err
			}
			secrets, err := config.LoadSecrets(os.Getenv)
			if err != nil {
				return err
			}
			pool, err := openDB(ctx, cmd, cmd.Bool("migrate"), log)
			if err != nil {
				return err
			}
			defer pool.Close()
			cdc, err := loadCodec(log)
			if err != nil {
				return err
			}
			tc, err := client.DialContext(ctx, temporalOptions(cmd, log, cdc))
			if err != nil {
				return fmt.Errorf("temporal %s: %w", cmd.String(flagTemporalAddress), err)
			}
			defer tc.Close()
			deps, err := workerDeps(cmd, pool, log, secrets)
			if err != nil {
				return err
			}
			w, err := worker.New(ctx, tc, worker.Options{TaskQueue: cmd.String(flagTaskQueue), MaxConcurrentActivities: int(cmd.Int("max-concurrent-activities"))}, deps)
			if err != nil {
				return err
			}
			if deps.Salesforce != nil {
				if _, err := workflows.EnsureIntake(ctx, tc, cmd.String(flagTaskQueue), workflows.IntakeInput{}); err != nil {
					return fmt.Errorf("start the salesforce intake: %w", err)
				}
			}
			for _, e := range cmd.StringSlice("close-entities") {
				if err := workflows.EnsureCloseSchedule(ctx, tc, cmd.String(flagTaskQueue), workflows.ScheduledCloseInput{Entity: e}); err != nil {
					return fmt.Errorf("close schedule of %s: %w", e, err)
				}
			}
			if deps.NetSuite != nil {
				for _, e := range cmd.StringSlice("erp-entities") {
					if err := workflows.EnsureERPSchedule(ctx, tc, e, cmd.String(flagTaskQueue), cmd.Duration("erp-sync-every")); err != nil {
						return fmt.Errorf("erp sync schedule of %s: %w", e, err)
					}
				}
			}
			log.Info("worker running", "task_queue", cmd.String(flagTaskQueue))
			return worker.Run(ctx, w)
		},
	}
}

// workerDeps builds the activities' dependencies from the worker's flags and the secrets: every
// file named by a flag is read here, before the worker is built from the result.
func workerDeps(cmd *cli.Command, pool *pgxpool.Pool, log *slog.Logger, secrets config.Secrets) (activities.Deps, error) {
	gwc, err := paymentGatewayConfig(cmd, secrets)
	if err != nil {
		return activities.Deps{}, err
	}
	gw, err := gateway.New(gwc, log)
	if err != nil {
		return activities.Deps{}, err
	}
	deps := activities.Deps{Pool: pool, Log: log, Payments: payment.NewService(pool, gw.Registry, log), LateGrace: cmd.Duration("late-grace")}
	if path := cmd.String("ssp-file"); path != "" {
		f, err := os.Open(path)
		if err != nil {
			return activities.Deps{}, fmt.Errorf("--ssp-file: %w", err)
		}
		deps.SSP, err = revrec.LoadSSPTable(f)
		f.Close()
		if err != nil {
			return activities.Deps{}, fmt.Errorf("--ssp-file %s: %w", path, err)
		}
	}
	if path := cmd.String("close-tolerances"); path != "" {
		if deps.CloseTolerances, err = recon.LoadConfig(path); err != nil {
			return activities.Deps{}, fmt.Errorf("--close-tolerances: %w", err)
		}
	}
	crm, err := salesforceClient(cmd, log, secrets)
	if err != nil {
		return activities.Deps{}, err
	}
	if crm != nil { // not a typed nil in the interface: nil leaves the intake unconfigured
		deps.Salesforce = crm
	}
	erp, erpMap, err := netsuiteClient(cmd, log, secrets)
	if err != nil {
		return activities.Deps{}, err
	}
	if erp != nil {
		deps.NetSuite, deps.NetSuiteMapping = erp, erpMap
	}
	return deps, nil
}

func devCommand() *cli.Command {
	return &cli.Command{
		Name:  "dev",
		Usage: "run everything on this machine: Temporal server + UI, worker, API, fake Salesforce/NetSuite/PayPal, stripe-mock, demo data",
		Description: "Starts (or reuses, if one already listens) `temporal server start-dev` and stripe-mock as child\n" +
			"processes, migrates PostgreSQL, runs the fakes, worker and API in this process, seeds demo deals and\n" +
			"prints where each one listens. Ctrl-C stops all of them.",
		Flags: concat(databaseFlags(), temporalFlags(), apiFlags(), logFlags(), childToolFlags(), []cli.Flag{
			&cli.StringFlag{Name: "data-dir", Value: filepath.Join(".revhub", "dev"), Usage: "state of the dev stack: Temporal's SQLite file, child logs, the dev API key", Sources: cli.EnvVars("REVHUB_DEV_DATA_DIR")},
			&cli.IntFlag{Name: "temporal-ui-port", Value: 8233, Usage: "Temporal Web UI port", Sources: cli.EnvVars("REVHUB_TEMPORAL_UI_PORT")},
			&cli.IntFlag{Name: "stripe-mock-port", Value: 12111, Usage: "stripe-mock HTTP port (loopback only)", Sources: cli.EnvVars("REVHUB_STRIPE_MOCK_PORT")},
			&cli.IntFlag{Name: "stripe-port", Value: 8704, Usage: "port of the stateful Stripe layer in front of stripe-mock (idempotency replay, signed webhooks)", Sources: cli.EnvVars("REVHUB_FAKE_STRIPE_PORT")},
			&cli.StringFlag{Name: "fakes-host", Value: "127.0.0.1", Usage: "address the fake Salesforce, NetSuite and PayPal servers bind to", Sources: cli.EnvVars("REVHUB_FAKES_HOST")},
			&cli.IntFlag{Name: "salesforce-port", Value: 8701, Usage: "fake Salesforce port", Sources: cli.EnvVars("REVHUB_FAKE_SALESFORCE_PORT")},
			&cli.IntFlag{Name: "netsuite-port", Value: 8702, Usage: "fake NetSuite port", Sources: cli.EnvVars("REVHUB_FAKE_NETSUITE_PORT")},
			&cli.IntFlag{Name: "paypal-port", Value: 8703, Usage: "fake PayPal port", Sources: cli.EnvVars("REVHUB_FAKE_PAYPAL_PORT")},
			&cli.BoolFlag{Name: "seed", Value: true, Usage: "seed demo deals and run the demo pipeline", Sources: cli.EnvVars("REVHUB_DEV_SEED")},
		}),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			log, err := newLogger(cmd)
			if err != nil {
				return err
			}
			return devhub.Run(ctx, devhub.Options{
				DataDir:         cmd.String("data-dir"),
				DatabaseURL:     cmd.String(flagDatabaseURL),
				TemporalAddress: cmd.String(flagTemporalAddress),
				TemporalUIPort:  int(cmd.Int("temporal-ui-port")),
				TemporalCLI:     cmd.String("temporal-cli"),
				StripeMockBin:   cmd.String("stripe-mock-bin"),
				StripeMockPort:  int(cmd.Int("stripe-mock-port")),
				StripePort:      int(cmd.Int("stripe-port")),
				FakesHost:       cmd.String("fakes-host"),
				SalesforcePort:  int(cmd.Int("salesforce-port")),
				NetSuitePort:    int(cmd.Int("netsuite-port")),
				PayPalPort:      int(cmd.Int("paypal-port")),
				TaskQueue:       cmd.String(flagTaskQueue),
				API:             serverOptions(cmd),
				Seed:            cmd.Bool("seed"),
				Log:             log,
				Out:             cmd.Root().Writer,
			})
		},
	}
}
