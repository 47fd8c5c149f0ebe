package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/urfave/cli/v3"

	"github.com/revhub/revhub/workflows"
)

func TestCloseDecisionsRequireActorAndReason(t *testing.T) {
	for _, args := range [][]string{
		{"revhub", "close", "approve", "--entity", "acme-us", "--period", "2026-10", "--check", "invoices_vs_ledger", "--actor", "user:jane"},
		{"revhub", "close", "skip", "--entity", "acme-us", "--period", "2026-10", "--customer", "cus_1", "--reason", "disputed"},
	} {
		root := &cli.Command{Name: "revhub", Commands: []*cli.Command{closeCommand()}, Writer: &bytes.Buffer{}, ErrWriter: &bytes.Buffer{}}
		err := root.Run(context.Background(), args)
		missing := "reason"
		if args[2] == "skip" {
			missing = "actor"
		}
		if err == nil || !strings.Contains(err.Error(), missing) {
			t.Fatalf("%v: error %v does not name --%s", args[2:], err, missing)
		}
	}
}

func TestPrintCloseShowsBlockedStepAndDecisions(t *testing.T) {
	st := workflows.CloseState{Run: "close/acme-us/2026-10", Step: "billing", Recon: workflows.CloseReconBlocked,
		Steps: []workflows.CloseStepState{
			{Name: "intake", State: "done"},
			{Name: "billing", State: workflows.StepBlocked, Detail: "invoices_vs_ledger attempt 1: 1 difference(s) beyond tolerance", Total: 3, Done: 3,
				Checks: []workflows.CloseCheckState{{Check: "invoices_vs_ledger", Attempt: 1, Status: "blocked", Differences: 1, Exceptions: []string{"inv_9: on invoices (120 USD) but not on ledger:accounts_receivable"}}}},
		},
		Decisions: []workflows.CloseDecision{{Seq: 1, Signal: workflows.CloseSignal{Kind: "approve", Actor: "user:jane", Reason: "x", Check: "ledger_vs_erp"}, Outcome: "rejected: check \"ledger_vs_erp\" is not blocked at step billing"}},
	}
	var b bytes.Buffer
	if err := printClose(&b, st, false); err != nil {
		t.Fatal(err)
	}
	want := `close/acme-us/2026-10  step billing  reconciliation blocked  done false
  intake: done
  billing: blocked (3/3 billed, 0 failed, 0 skipped) [invoices_vs_ledger #1 blocked, 1 differences]
      blocked: invoices_vs_ledger attempt 1: 1 difference(s) beyond tolerance
      invoices_vs_ledger: inv_9: on invoices (120 USD) but not on ledger:accounts_receivable
  decision 1 approve by user:jane (x): rejected: check "ledger_vs_erp" is not blocked at step billing
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
