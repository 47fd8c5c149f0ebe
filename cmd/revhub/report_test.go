package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/revrec"
)

func TestReportRevenue(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	jan1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := revrec.Arrangement{ID: "ctr_cli", CustomerID: "cus_cli", EntityID: "revhub-eu", Currency: "EUR",
		Obligations: []revrec.Obligation{{ID: "platform", Product: "platform", Kind: revrec.KindPlatform,
			Price: decimal.RequireFromString("12000.00"), Start: jan1, End: jan1.AddDate(1, 0, 0)}},
		Billings: []revrec.Billing{{ID: "inv_1", ObligationID: "platform", Date: jan1, Amount: decimal.RequireFromString("12000.00")}}}
	s, err := revrec.Compute(a, revrec.DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := revrec.InputHash(a, revrec.DefaultSSPTable())
	if _, _, err := revrec.SaveSchedule(ctx, d.Pool, s, hash, revrec.Month{}); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, error) {
		var stdout, stderr bytes.Buffer
		cmd := reportCommand()
		cmd.Writer, cmd.ErrWriter = &stdout, &stderr
		err := cmd.Run(ctx, append([]string{"report", "revenue", "--database-url", d.URL}, args...))
		return stdout.String(), stderr.String(), err
	}

	out, _, err := run("--kind", "recognized", "--dimension", "customer", "--entity", "revhub-eu", "--from", "2026-01", "--to", "2026-02")
	want := "customer,currency,month,revenue,breakage,total\ncus_cli,EUR,2026-01,1019.18,0.00,1019.18\ncus_cli,EUR,2026-02,920.54,0.00,920.54\n"
	if err != nil || out != want {
		t.Fatalf("recognized: %v\n%s\nwant\n%s", err, out, want)
	}

	path := filepath.Join(t.TempDir(), "journal.csv")
	_, msg, err := run("--kind", "journal", "--contract", "ctr_cli", "--from", "2026-01", "--to", "2026-01", "--out", path)
	if err != nil || !strings.Contains(msg, path) {
		t.Fatalf("journal to file: %v %s", err, msg)
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), "revrec:ctr_cli:2026-01:recognition") || strings.Contains(string(b), "2026-02") {
		t.Fatalf("journal file: %v\n%s", err, b)
	}

	// Bad flags are all named at once, by flag; no file is written.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	_, _, err = run("--kind", "forecast", "--from", "2026-1", "--to", "2025-12", "--dimension", "product", "--out", bad)
	for _, want := range []string{"--kind:", "--from:", "--dimension:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad flags: %v does not name %s", err, want)
		}
	}
	if _, statErr := os.Stat(bad); !os.IsNotExist(statErr) {
		t.Fatalf("a refused report wrote %s", bad)
	}
}
