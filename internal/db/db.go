// Package db opens the PostgreSQL pool and applies the embedded, versioned migrations.
package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is the local development database: PostgreSQL on loopback with trust auth.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/revhub?sslmode=disable"

// PoolOptions bounds the pool; zero values take the defaults noted on each field.
type PoolOptions struct {
	MaxConns          int32         // default 16
	MinConns          int32         // default 1
	MaxConnLifetime   time.Duration // default 1h
	MaxConnIdleTime   time.Duration // default 5m
	HealthCheckPeriod time.Duration // default 30s
	StatementTimeout  time.Duration // default 60s; 0 keeps the default, negative disables it
}

// Open connects a pgx pool with sane limits and checks the connection.
func Open(ctx context.Context, url string, o PoolOptions) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	cfg.MaxConns = orDefault(o.MaxConns, 16)
	cfg.MinConns = orDefault(o.MinConns, 1)
	cfg.MaxConnLifetime = orDefault(o.MaxConnLifetime, time.Hour)
	cfg.MaxConnIdleTime = orDefault(o.MaxConnIdleTime, 5*time.Minute)
	cfg.HealthCheckPeriod = orDefault(o.HealthCheckPeriod, 30*time.Second)
	st := orDefault(o.StatementTimeout, 60*time.Second)
	if st > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(st.Milliseconds())
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "revhub"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return pool, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Querier is what both a pool and a transaction offer; store functions take it, and can open a
// transaction of it (a savepoint when it already is one) with InTx.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	Begin(ctx context.Context) (pgx.Tx, error)
}

// InTx runs fn in a transaction of q (a savepoint when q is a transaction), committing on nil and
// rolling back on an error or a panic.
func InTx(ctx context.Context, q Querier, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, q, fn)
}

// IsUniqueViolation reports whether err is a PostgreSQL unique_violation (23505), optionally on the named constraint.
func IsUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		return false
	}
	return constraint == "" || pgErr.ConstraintName == constraint
}

// PgCode returns the SQLSTATE of a PostgreSQL error, or "" for any other error.
func PgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
