package workflows_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/invoice"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/temporaltest"
	"github.com/revhub/revhub/workflows"
)

// TestRecognizeRevenueOnTemporal runs the month's recognition on a real Temporal server and PostgreSQL, twice
// under its deterministic id: the second run finds everything already done and posts nothing.
func TestRecognizeRevenueOnTemporal(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	ch := ledger.DefaultChart()
	if err := ledger.SyncChart(ctx, d.Pool, ch); err != nil {
		t.Fatal(err)
	}
	v, err := contract.ParseVersion([]byte(`
contract_id: ctr_wf
version: 1
status: active
customer: {external_id: cus_wf, name: Workflow Corp}
currency: EUR
billing_entity: revhub-eu
payment_provider: bank
start: 2026-01-01
end: 2027-01-01
billing: {cadence: annual, timing: in_advance}
components:
  - {id: platform, product: platform, model: flat, price: {amount: "12000.00"}}
`), contract.YAML)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := contract.Create(ctx, d.Pool, v); err != nil {
		t.Fatal(err)
	}
	jan1, _ := invoice.ParseDate("2026-01-01")
	next, _ := invoice.ParseDate("2027-01-01")
	draft, err := invoice.CreateDraft(ctx, d.Pool, invoice.Draft{Key: "wf:2026", Kind: invoice.KindCycle, ContractID: "ctr_wf",
		ContractVersion: 1, CustomerID: "cus_wf", BillingEntity: "revhub-eu", Currency: "EUR", PeriodStart: jan1, PeriodEnd: next,
		PaymentTermsDays: 30, Lines: []invoice.Line{{Kind: "recurring", ComponentID: "platform", Product: "platform",
			Description: "Platform 2026", Quantity: decimal.NewFromInt(1), Amount: decimal.RequireFromString("12000.00")}}})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := invoice.Finalize(ctx, d.Pool, draft.ID, jan1.Time())
	if err != nil {
		t.Fatal(err)
	}
	e, err := ledger.InvoiceFinalized(ch, ledger.Invoice{ID: inv.ID, Party: ledger.Party{Entity: "revhub-eu", Customer: "cus_wf", Contract: "ctr_wf"},
		Date: jan1.Time(), Currency: "EUR", Lines: []ledger.InvoiceLine{{Product: "platform", Amount: inv.Total, Treatment: ledger.BilledInAdvance}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Post(ctx, d.Pool, ch, e); err != nil {
		t.Fatal(err)
	}

	tc, queue := temporaltest.Client(t), temporaltest.TaskQueue(t)
	w := worker.New(tc, queue, worker.Options{})
	w.RegisterWorkflow(workflows.RecognizeRevenue)
	w.RegisterActivity(activities.New(activities.Deps{Pool: d.Pool, Chart: ch, Log: slog.New(slog.DiscardHandler)}).Revenue)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	t.Cleanup(func() { once.Do(w.Stop) })

	in := workflows.RecognizeRevenueInput{Entity: "revhub-eu", Month: "2026-03"}
	id := workflows.RevenueID(in.Entity, in.Month) + "/" + t.Name() // unique per test database
	for attempt, wantPosted := range []int{3, 0} {
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, workflows.RecognizeRevenue, in)
		if err != nil {
			t.Fatal(err)
		}
		var out activities.RecognizeOutput
		if err := run.Get(ctx, &out); err != nil {
			t.Fatalf("run %d: %v", attempt+1, err)
		}
		// January to March are recognized by day: 12,000.00 x 90/365 = 2,958.90 through March, 1,019.18 in it.
		if out.Arrangements != 1 || out.EntriesPosted != wantPosted || len(out.Recognized) != 1 ||
			out.Recognized[0].Currency != "EUR" || !out.Recognized[0].Amount.Equal(decimal.RequireFromString("1019.18")) {
			t.Fatalf("run %d: %+v", attempt+1, out)
		}
		q, err := tc.QueryWorkflow(ctx, id, run.GetRunID(), workflows.QueryStatus)
		if err != nil {
			t.Fatal(err)
		}
		var st workflows.RevenueState
		if err := q.Get(&st); err != nil || st.Status != workflows.RevenueDone || st.Result == nil || st.Result.EntriesPosted != wantPosted {
			t.Fatalf("run %d status: %v %+v", attempt+1, err, st)
		}
	}
	bs, err := ledger.Balances(ctx, d.Pool, ledger.BalanceQuery{Entity: "revhub-eu", Account: "4010"})
	if err != nil || len(bs) != 1 || !bs[0].Credit.Equal(decimal.RequireFromString("2958.90")) {
		t.Fatalf("platform revenue in the ledger: %v %+v", err, bs)
	}
}
