// Package dbtest gives each integration test its own PostgreSQL database, cloned from a
// template that holds every embedded migration, and drops it when the test ends.
//
// The server comes from REVHUB_TEST_DATABASE_URL (default: postgres on 127.0.0.1:5432, trust
// auth). A missing server fails the test: it never skips silently. `scripts/test.sh` starts one.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/revhub/revhub/internal/db"
)

// DefaultServerURL points at the local PostgreSQL server's admin database.
const DefaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// DB is one test's private database.
type DB struct {
	Pool *pgxpool.Pool // pool on the test database
	URL  string        // connection URL of the test database, for child processes
	Name string        // database name
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// ServerURL returns the admin URL of the test PostgreSQL server.
func ServerURL() string {
	if u := os.Getenv("REVHUB_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultServerURL
}

// New creates a fresh migrated database for t and drops it in t.Cleanup.
func New(t testing.TB) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(ctx) })
	if templateErr != nil {
		t.Fatalf("dbtest: PostgreSQL test template: %v (run scripts/test.sh, which starts PostgreSQL, or set REVHUB_TEST_DATABASE_URL)", templateErr)
	}
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Fatalf("dbtest: connect to %s: %v (run scripts/test.sh, which starts PostgreSQL)", redact(ServerURL()), err)
	}
	defer admin.Close(ctx)
	name := "revhub_t_" + randomSuffix()
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, templateName)); err != nil {
		t.Fatalf("dbtest: clone template: %v", err)
	}
	url := withDatabase(ServerURL(), name)
	pool, err := db.Open(ctx, url, db.PoolOptions{MaxConns: 8})
	if err != nil {
		t.Fatalf("dbtest: open %s: %v", name, err)
	}
	t.Cleanup(func() {
		pool.Close()
		Drop(t, name)
	})
	return &DB{Pool: pool, URL: url, Name: name}
}

// NewEmpty creates an empty, unmigrated database for t (for migration tests) and drops it after.
func NewEmpty(t testing.TB) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Fatalf("dbtest: connect to %s: %v (run scripts/test.sh, which starts PostgreSQL)", redact(ServerURL()), err)
	}
	defer admin.Close(ctx)
	name := "revhub_e_" + randomSuffix()
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("dbtest: create %s: %v", name, err)
	}
	url := withDatabase(ServerURL(), name)
	pool, err := db.Open(ctx, url, db.PoolOptions{MaxConns: 4})
	if err != nil {
		t.Fatalf("dbtest: open %s: %v", name, err)
	}
	t.Cleanup(func() {
		pool.Close()
		Drop(t, name)
	})
	return &DB{Pool: pool, URL: url, Name: name}
}

// Drop removes a test database, disconnecting anything still attached.
func Drop(t testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Errorf("dbtest: drop %s: %v", name, err)
		return
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
		t.Errorf("dbtest: drop %s: %v", name, err)
	}
}

// ensureTemplate builds (once per migration set, across processes) a migrated template database.
func ensureTemplate(ctx context.Context) (string, error) {
	hash, err := migrationsHash(db.Migrations())
	if err != nil {
		return "", err
	}
	name := "revhub_tpl_" + hash
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", redact(ServerURL()), err)
	}
	defer admin.Close(ctx)
	// Serialize template building across test processes running in parallel.
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(727275)`); err != nil {
		return "", fmt.Errorf("lock: %w", err)
	}
	defer admin.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(727275)`) //nolint:errcheck
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", fmt.Errorf("look up template: %w", err)
	}
	if exists {
		return name, nil
	}
	building := name + "_b"
	if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+building+` WITH (FORCE)`); err != nil {
		return "", fmt.Errorf("drop stale template: %w", err)
	}
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+building); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	if _, err := db.MigrateUp(ctx, withDatabase(ServerURL(), building), nil); err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if _, err := admin.Exec(ctx, `ALTER DATABASE `+building+` RENAME TO `+name); err != nil {
		return "", fmt.Errorf("rename template: %w", err)
	}
	dropStaleTemplates(ctx, admin, name)
	return name, nil
}

// dropStaleTemplates removes templates of earlier migration sets. A plain DROP (no FORCE) fails
// for a template another test run is still cloning or using, which is then left alone.
func dropStaleTemplates(ctx context.Context, admin *pgx.Conn, keep string) {
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'revhub\_tpl\_%' AND datname <> $1`, keep)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, n := range names {
		_, _ = admin.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{n}.Sanitize())
	}
}

func migrationsHash(fsys fs.FS) (string, error) {
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("read migrations: %w", err)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return "", fmt.Errorf("read migration %s: %w", n, err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%d_%s", os.Getpid(), hex.EncodeToString(b))
}

// withDatabase replaces the database name in a postgres:// URL.
func withDatabase(url, name string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return url
	}
	q := ""
	if i := strings.Index(url, "?"); i >= 0 {
		q = url[i:]
	}
	user := cfg.User
	if cfg.Password != "" {
		user += ":" + cfg.Password
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s%s", user, cfg.Host, cfg.Port, name, q)
}

func redact(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "(unparseable database url)"
	}
	return fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}
