package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/revhub/revhub/internal/bench/chaosclose"
	"github.com/revhub/revhub/internal/dbtest"
)

// TestChaosClose is the chaos run of the month-end close: the demo closes of both entities (with
// five extra copies of every won deal) on their own Temporal dev server, stripe-mock and fakes,
// the worker as its own process SIGKILLed five times at random points during the close, and
// every fake provider answering 10% of its requests with 429 or 5xx. At the end every invoice,
// charge, journal entry and ERP post exists exactly once and every reconciliation is green
// (chaosclose.Verify); the seed is fixed so a failure can be replayed with
// `revhub bench close --chaos --seed 20261124 --extra-deals 5`.
func TestChaosClose(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	d := dbtest.New(t)
	bin := revhubBinary(t)
	rep, err := chaosclose.Run(ctx, chaosclose.Options{
		DatabaseURL: d.URL, Binary: bin, Chaos: true, Seed: 20261124, ExtraDeals: 5,
		Timeout: 10 * time.Minute, DataDir: t.TempDir(),
	})
	var out bytes.Buffer
	if rep != nil {
		chaosclose.Print(&out, rep)
	}
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Kills) != 5 || rep.Faults.RateLimited == 0 || rep.Faults.Unavailable == 0 {
		t.Errorf("chaos not applied: %d kills, faults %+v", len(rep.Kills), rep.Faults)
	}
	if !rep.OK() {
		t.Fatalf("%d differences after the chaos run (report above)", len(rep.Differences))
	}
	if len(rep.Observed.Invoices) < 20 || len(rep.Observed.Payments) < 10 || len(rep.Observed.NetSuiteJournals) == 0 {
		t.Fatalf("the run did too little to prove anything: %d invoices, %d payments, %d journals",
			len(rep.Observed.Invoices), len(rep.Observed.Payments), len(rep.Observed.NetSuiteJournals))
	}
}
