package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/revhub/revhub/internal/api"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/usage"
)

func serve(t *testing.T) (*httptest.Server, *dbtest.DB) {
	t.Helper()
	d := dbtest.New(t)
	in, err := usage.NewIngester(context.Background(), d.Pool, usage.IngesterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	mux := http.NewServeMux()
	for _, r := range api.UsageRoutes(in, nil) {
		mux.HandleFunc(r.Method+" "+r.Path, r.Handler)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, d
}

func TestRunSendsLoadAndVerifiesExactTotals(t *testing.T) {
	srv, d := serve(t)
	rep, err := Run(context.Background(), Options{URL: srv.URL, Duration: time.Minute, MaxEvents: 30_000, Workers: 3,
		BatchSize: 2000, Customers: 50, RetryShare: 200, Seed: 42, DatabaseURL: d.URL})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Verified || rep.Events != 30_000 || rep.MetersVerified != 5 || rep.DupsReported == 0 || rep.P99 == 0 {
		t.Fatalf("report %+v", rep)
	}
	var stored, late int
	if err := d.Pool.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE time < now() - interval '3 hours') FROM usage_events`).Scan(&stored, &late); err != nil {
		t.Fatal(err)
	}
	if stored != 30_000 || late < 900 || late > 2100 { // 5% late by default
		t.Fatalf("stored %d events, %d of them hours old", stored, late)
	}
	var out strings.Builder
	Print(&out, rep)
	if p := rep.Postgres; p == nil || p.SharedBuffers == "" || p.MaxWALSize == "" || p.Requested < 0 || p.Timed < 0 {
		t.Fatalf("postgres report %+v", p)
	}
	if !strings.Contains(out.String(), "verified: 5 meters") || !strings.Contains(out.String(), "max_wal_size "+rep.Postgres.MaxWALSize) {
		t.Fatalf("printed report:\n%s", out.String())
	}

	// The check is real: a rollup changed behind the API's back is caught.
	if _, err := d.Pool.Exec(context.Background(), `UPDATE usage_rollups SET sum = sum + 1
		WHERE ctid = (SELECT ctid FROM usage_rollups WHERE meter LIKE '%-tokens' LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	g := &Generator{Run: rep.Run, Seed: 42, Customers: 50, Start: time.Now().UTC(), LateShare: 50}
	r := &runner{o: Options{URL: srv.URL, Client: http.DefaultClient}, g: g}
	again := &Report{Events: rep.Events}
	if err := r.verify(context.Background(), again); err != nil {
		t.Fatal(err)
	}
	if again.Verified || len(again.Mismatches) != 1 {
		t.Fatalf("tampered rollup not detected: %+v", again)
	}
}

func TestGeneratorIsDeterministic(t *testing.T) {
	g := &Generator{Run: "r1", Seed: 7, Customers: 10, Start: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC), LateShare: 50}
	a, b := string(g.AppendJSON(nil, 123)), string(g.AppendJSON(nil, 123))
	if a != b || !strings.Contains(a, `"id":"r1-123"`) {
		t.Fatalf("event 123: %s / %s", a, b)
	}
	if _, err := usage.DecodeOne([]byte(a)); err != nil {
		t.Fatalf("generated event does not decode: %v", err)
	}
	late := 0
	for i := range uint64(10_000) {
		if g.At(i).Late {
			late++
		}
	}
	if late < 400 || late > 600 {
		t.Fatalf("%d late events of 10000, want about 500", late)
	}
}

func TestPostgresObserverCountsCheckpoints(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	o, err := observePostgres(ctx, d.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Pool.Exec(ctx, `CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	p, err := o.finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Requested < 1 || p.SharedBuffers == "" || p.MaxWALSize == "" {
		t.Fatalf("after a CHECKPOINT: %+v", p)
	}
	var out strings.Builder
	Print(&out, &Report{Postgres: p})
	if !strings.Contains(out.String(), "raise it") {
		t.Fatalf("a forced checkpoint printed no advice:\n%s", out.String())
	}
	if _, err := observePostgres(ctx, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"); err == nil || !strings.Contains(err.Error(), "--database-url") {
		t.Fatalf("unreachable server: %v", err)
	}
}
