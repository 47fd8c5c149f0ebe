package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/urfave/cli/v3"

	"github.com/revhub/revhub/internal/db"
)

// Flag names shared by several commands.
const (
	flagDatabaseURL       = "database-url"
	flagDBMaxConns        = "db-max-conns"
	flagTemporalAddress   = "temporal-address"
	flagTemporalNamespace = "temporal-namespace"
	flagTaskQueue         = "task-queue"
	flagListen            = "listen"
	flagLogLevel          = "log-level"
	flagLogFormat         = "log-format"
	flagMaxBody           = "max-body-bytes"
	flagShutdownTimeout   = "shutdown-timeout"
)

// DefaultTaskQueue is the Temporal task queue revhub's workers poll.
const DefaultTaskQueue = "revhub"

func databaseFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagDatabaseURL, Value: db.DefaultURL, Usage: "PostgreSQL connection URL (the database is created if missing)", Sources: cli.EnvVars("REVHUB_DATABASE_URL")},
		&cli.Int32Flag{Name: flagDBMaxConns, Value: 16, Usage: "maximum PostgreSQL connections in the pool", Sources: cli.EnvVars("REVHUB_DB_MAX_CONNS")},
	}
}

func temporalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagTemporalAddress, Value: "127.0.0.1:7233", Usage: "Temporal frontend host:port", Sources: cli.EnvVars("REVHUB_TEMPORAL_ADDRESS")},
		&cli.StringFlag{Name: flagTemporalNamespace, Value: "default", Usage: "Temporal namespace", Sources: cli.EnvVars("REVHUB_TEMPORAL_NAMESPACE")},
		&cli.StringFlag{Name: flagTaskQueue, Value: DefaultTaskQueue, Usage: "Temporal task queue of revhub's workflows and activities", Sources: cli.EnvVars("REVHUB_TASK_QUEUE")},
	}
}

func apiFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagListen, Value: "127.0.0.1:8080", Usage: "address the HTTP API listens on", Sources: cli.EnvVars("REVHUB_API_LISTEN")},
		&cli.Int64Flag{Name: flagMaxBody, Value: 1 << 20, Usage: "default request body limit in bytes (event batches have their own, larger limit)", Sources: cli.EnvVars("REVHUB_MAX_BODY_BYTES")},
		&cli.DurationFlag{Name: flagShutdownTimeout, Value: 20 * time.Second, Usage: "how long to drain in-flight requests on shutdown", Sources: cli.EnvVars("REVHUB_SHUTDOWN_TIMEOUT")},
	}
}

func logFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagLogLevel, Value: "info", Usage: "log level: debug, info, warn, error", Sources: cli.EnvVars("REVHUB_LOG_LEVEL")},
		&cli.StringFlag{Name: flagLogFormat, Value: "text", Usage: "log format: text or json", Sources: cli.EnvVars("REVHUB_LOG_FORMAT")},
	}
}

// childToolFlags locate the programs a local stack runs as child processes (dev, bench close).
func childToolFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "temporal-cli", Usage: "path of the temporal CLI (default: found in PATH or $GOPATH/bin)", Sources: cli.EnvVars("REVHUB_TEMPORAL_CLI")},
		&cli.StringFlag{Name: "stripe-mock-bin", Usage: "path of stripe-mock (default: found in PATH or $GOPATH/bin)", Sources: cli.EnvVars("REVHUB_STRIPE_MOCK_BIN")},
	}
}

func concat(groups ...[]cli.Flag) []cli.Flag {
	var out []cli.Flag
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// newLogger builds the process logger from --log-level and --log-format, writing to stderr.
func newLogger(cmd *cli.Command) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cmd.String(flagLogLevel))); err != nil {
		return nil, fmt.Errorf("--%s: %q is not one of debug, info, warn, error", flagLogLevel, cmd.String(flagLogLevel))
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(cmd.String(flagLogFormat)) {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	default:
		return nil, fmt.Errorf("--%s: %q is not one of text, json", flagLogFormat, cmd.String(flagLogFormat))
	}
}

// openDB creates the database if missing, migrates it when migrate is true, and opens the pool.
func openDB(ctx context.Context, cmd *cli.Command, migrate bool, log *slog.Logger) (*pgxpool.Pool, error) {
	url := cmd.String(flagDatabaseURL)
	if err := db.EnsureDatabase(ctx, url); err != nil {
		return nil, err
	}
	if migrate {
		applied, err := db.MigrateUp(ctx, url, nil)
		if err != nil {
			return nil, err
		}
		if len(applied) > 0 {
			log.Info("migrations applied", "count", len(applied))
		}
	}
	return db.Open(ctx, url, db.PoolOptions{MaxConns: cmd.Int32(flagDBMaxConns)})
}
