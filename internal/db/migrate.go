package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for goose
	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var embedded embed.FS

// Migrations returns the embedded migration files, named NNNNN_description.sql.
func Migrations() fs.FS {
	sub, err := fs.Sub(embedded, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

// MigrationStatus is one migration's state in a database.
type MigrationStatus struct {
	Version int64
	File    string
	Applied bool
}

func provider(url string, fsys fs.FS) (*goose.Provider, *sql.DB, error) {
	sqldb, err := sql.Open("pgx", url)
	if err != nil {
		return nil, nil, fmt.Errorf("database url: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqldb, fsys)
	if err != nil {
		sqldb.Close()
		return nil, nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, sqldb, nil
}

// MigrateUp applies every pending migration of fsys (the embedded set when nil), each in its own
// transaction; a failing file stops the run with an error naming the file and the database's reason.
func MigrateUp(ctx context.Context, url string, fsys fs.FS) ([]MigrationStatus, error) {
	if fsys == nil {
		fsys = Migrations()
	}
	p, sqldb, err := provider(url, fsys)
	if err != nil {
		return nil, err
	}
	defer sqldb.Close()
	// One migrator at a time per database: concurrent `revhub migrate up` (or api and worker
	// starting together) wait for each other instead of racing on goose's version table.
	conn, err := sqldb.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(727274)`); err != nil {
		return nil, fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(727274)`) //nolint:errcheck
	results, err := p.Up(ctx)
	out := make([]MigrationStatus, 0, len(results))
	for _, r := range results {
		out = append(out, MigrationStatus{Version: r.Source.Version, File: r.Source.Path, Applied: r.Error == nil})
	}
	if err != nil {
		var perr *goose.PartialError
		if errors.As(err, &perr) && perr.Failed != nil {
			return out, fmt.Errorf("migration %s failed: %s", perr.Failed.Source.Path, describe(perr.Err))
		}
		return out, fmt.Errorf("migrate up: %w", err)
	}
	return out, nil
}

func describe(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		msg := pgErr.Message
		if pgErr.Position > 0 {
			msg += fmt.Sprintf(" (at character %d)", pgErr.Position)
		}
		return fmt.Sprintf("%s [SQLSTATE %s]", msg, pgErr.Code)
	}
	return strings.TrimSpace(err.Error())
}

// MigrateStatus lists every migration of fsys (the embedded set when nil) and whether it is applied.
func MigrateStatus(ctx context.Context, url string, fsys fs.FS) ([]MigrationStatus, error) {
	if fsys == nil {
		fsys = Migrations()
	}
	p, sqldb, err := provider(url, fsys)
	if err != nil {
		return nil, err
	}
	defer sqldb.Close()
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationStatus{Version: s.Source.Version, File: s.Source.Path, Applied: s.State == goose.StateApplied})
	}
	return out, nil
}

// EnsureDatabase creates the database named in url if it does not exist, connecting to the
// server's "postgres" database to do so.
func EnsureDatabase(ctx context.Context, url string) error {
	name, conn, err := adminConn(ctx, url)
	if err != nil || conn == nil {
		return err
	}
	defer conn.Close(ctx)
	res := conn.ExecParams(ctx, `SELECT 1 FROM pg_database WHERE datname = $1`, [][]byte{[]byte(name)}, nil, nil, nil).Read()
	if res.Err != nil {
		return fmt.Errorf("look up database %q: %w", name, res.Err)
	}
	if len(res.Rows) > 0 {
		return nil
	}
	if err := conn.Exec(ctx, `CREATE DATABASE `+quoteIdent(name)).Close(); err != nil && PgCode(err) != "42P04" {
		return fmt.Errorf("create database %q: %w", name, err)
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// DropDatabase drops the database named in url (closing its connections), connecting to the
// server's "postgres" database to do so; a missing database is not an error.
func DropDatabase(ctx context.Context, url string) error {
	name, conn, err := adminConn(ctx, url)
	if err != nil {
		return err
	}
	if conn == nil {
		return fmt.Errorf("drop database %q: refusing to drop the server's own database", name)
	}
	defer conn.Close(ctx)
	if err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+quoteIdent(name)+` WITH (FORCE)`).Close(); err != nil {
		return fmt.Errorf("drop database %q: %w", name, err)
	}
	return nil
}

// adminConn returns the name of the database in url and a connection to the same server's
// "postgres" database; the connection is nil when url names no database or "postgres" itself.
func adminConn(ctx context.Context, url string) (string, *pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		return "", nil, fmt.Errorf("database url: %w", err)
	}
	name := cfg.Database
	if name == "" || name == "postgres" {
		return name, nil, nil
	}
	cfg.Database = "postgres"
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return name, nil, fmt.Errorf("connect %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	return name, conn, nil
}
