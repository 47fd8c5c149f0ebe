package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v3"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/internal/config"
)

// runWorkerDeps parses args with the worker's own flags and builds its dependencies from them
// (no database, no Temporal).
func runWorkerDeps(t *testing.T, args ...string) (activities.Deps, error) {
	t.Helper()
	cmd := workerCommand()
	var deps activities.Deps
	var depsErr error
	cmd.Action = func(_ context.Context, cmd *cli.Command) error {
		deps, depsErr = workerDeps(cmd, nil, slog.New(slog.DiscardHandler), config.Secrets{})
		return nil
	}
	if err := cmd.Run(context.Background(), append([]string{"worker"}, args...)); err != nil {
		t.Fatal(err)
	}
	return deps, depsErr
}

// The worker's files reach the activities: the close tolerances were once read after the worker
// had been built from a copy of the dependencies, and so ignored.
func TestWorkerDepsReadTheFlagFiles(t *testing.T) {
	tol := filepath.Join(t.TempDir(), "tolerances.yaml")
	if err := os.WriteFile(tol, []byte("checks:\n  invoices_vs_ledger:\n    max_differences: 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	deps, err := runWorkerDeps(t, "--close-tolerances", tol)
	if err != nil {
		t.Fatal(err)
	}
	if got := deps.CloseTolerances.For("invoices_vs_ledger").MaxDifferences; got != 5 {
		t.Fatalf("close tolerance of invoices_vs_ledger = %d differences, want 5 from --close-tolerances", got)
	}
	if deps.Salesforce != nil || deps.NetSuite != nil {
		t.Fatalf("CRM %v and ERP %v configured without their flags", deps.Salesforce, deps.NetSuite)
	}

	if _, err := runWorkerDeps(t, "--close-tolerances", filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "--close-tolerances") {
		t.Fatalf("missing tolerance file: error %v does not name --close-tolerances", err)
	}
	if _, err := runWorkerDeps(t, "--netsuite-account-id", "1234567"); err == nil || !strings.Contains(err.Error(), "--netsuite-mapping") {
		t.Fatalf("ERP without mapping: error %v does not name --netsuite-mapping", err)
	}
}
