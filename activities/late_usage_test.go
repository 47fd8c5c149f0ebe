package activities_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/invoice"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/usage"
)

// lateTerms are the terms both late-usage contracts share: billed monthly in arrears from
// late-us, metering api_calls.
const lateTerms = `
version: 1
status: active
currency: USD
billing_entity: late-us
payment_provider: bank
start: 2026-09-01
billing: {cadence: monthly, timing: in_arrears}
meters:
  - id: api_calls
`

const lateContract = lateTerms + `
contract_id: ctr_late
customer: {external_id: cus_late, name: Late Corp}
components:
  - {id: platform, product: platform, model: flat, price: {amount: "10.00"}}
  - id: api
    product: api
    model: graduated
    meter: api_calls
    free_units: 100
    price:
      tiers:
        - {from: 0, up_to: 1000, unit_price: "0.01"}
        - {from: 1000, unit_price: "0.005"}
`

const lateCommitContract = lateTerms + `
contract_id: ctr_late_commit
customer: {external_id: cus_commit, name: Commit Corp}
components:
  - {id: api, product: api, model: per_unit, meter: api_calls, price: {unit_price: "0.01"}}
commit: {amount: "100.00"}
`

// newLateEnv is a migrated database with the chart, the contract doc and an api_calls COUNT meter,
// and an ingester over it.
func newLateEnv(t *testing.T, doc string) (*dbtest.DB, *ledger.Chart, *usage.Ingester) {
	t.Helper()
	ctx := context.Background()
	d, ch := newChartDB(t)
	createContracts(t, d.Pool, doc)
	if _, err := usage.InsertMeter(ctx, d.Pool, &usage.Meter{Slug: "api_calls", EventType: "api.call", Aggregation: usage.Count}); err != nil {
		t.Fatal(err)
	}
	ing, err := usage.NewIngester(ctx, d.Pool, usage.IngesterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ing.Close)
	return d, ch, ing
}

// TestLateUsageBilledOnTheNextInvoice: usage that arrives after its month was invoiced is billed
// once, on the next cycle invoice, as late_usage lines priced as its own month was (tiers and free
// units carried over), and a second batch of late usage for the same month continues from what was
// already billed. By hand (free 100, 0.01 up to 1,000 billable, then 0.005):
//
//	September: 1,200 calls -> 1,100 billable = 10.00 + 0.50 = 10.50, total 20.50
//	October:   50 calls (free); 300 late September calls: charge(1,400) - charge(1,100) = 12.00 - 10.50 = 1.50; total 11.50
//	November:  100 more late September: charge(1,500) - charge(1,400) = 0.50; 80 late October calls, 50 of them
//	           in October's unused free units: charge(30) = 0.30; total 10.80
func TestLateUsageBilledOnTheNextInvoice(t *testing.T) {
	ctx := context.Background()
	d, ch, ing := newLateEnv(t, lateContract)
	seq := 0
	send := func(n int, at time.Time) {
		t.Helper()
		var evs []usage.Event
		for range n {
			seq++
			evs = append(evs, usage.Event{ID: fmt.Sprintf("e%d", seq), Source: "gw", SpecVersion: "1.0", Type: "api.call", Subject: "cus_late", Time: at})
		}
		if _, err := ing.Ingest(ctx, evs, usage.IngestOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC)
	bill := activities.New(activities.Deps{Pool: d.Pool, Chart: ch, Now: func() time.Time { return now }}).Billing
	cycle := func(start, end string) invoice.Invoice {
		t.Helper()
		in := activities.CycleInput{ContractID: "ctr_late", PeriodStart: start, PeriodEnd: end}
		if _, err := bill.CloseUsage(ctx, in); err != nil {
			t.Fatal(err)
		}
		dr, err := bill.RateAndDraft(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := bill.RateAndDraft(ctx, in) // already done: the same draft, nothing taken twice
		if err != nil || again.InvoiceID != dr.InvoiceID {
			t.Fatalf("retry: %+v %v, want %s", again, err, dr.InvoiceID)
		}
		if _, err := bill.Finalize(ctx, activities.InvoiceRef{InvoiceID: dr.InvoiceID}); err != nil {
			t.Fatal(err)
		}
		inv, err := invoice.Get(ctx, d.Pool, dr.InvoiceID)
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	late := func(inv invoice.Invoice) map[string]string {
		out := map[string]string{}
		for _, l := range inv.Lines {
			if l.Kind == "late_usage" {
				out[l.PeriodStart.String()] = l.Quantity.String() + " -> " + l.Amount.StringFixed(2)
			}
		}
		return out
	}

	send(1200, time.Date(2026, 9, 10, 12, 0, 0, 0, time.UTC))
	sep := cycle("2026-09-01", "2026-10-01")
	if sep.Total.StringFixed(2) != "20.50" || len(late(sep)) != 0 {
		t.Fatalf("September: total %s, late lines %v; want 20.50 and none", sep.Total, late(sep))
	}

	send(300, time.Date(2026, 9, 20, 12, 0, 0, 0, time.UTC)) // late: September is invoiced
	send(50, time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC))
	oct := cycle("2026-10-01", "2026-11-01")
	if got := late(oct); oct.Total.StringFixed(2) != "11.50" || len(got) != 1 || got["2026-09-01"] != "300 -> 1.50" {
		t.Fatalf("October: total %s, late lines %v; want 11.50 with 300 -> 1.50 for September", oct.Total, got)
	}
	if p, err := usage.PendingAdjustments(ctx, d.Pool, "cus_late"); err != nil || len(p) != 0 {
		t.Fatalf("pending after October: %d %v, want none", len(p), err)
	}

	send(100, time.Date(2026, 9, 25, 12, 0, 0, 0, time.UTC))
	send(80, time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC))
	nov := cycle("2026-11-01", "2026-12-01")
	if got := late(nov); nov.Total.StringFixed(2) != "10.80" || len(got) != 2 || got["2026-09-01"] != "100 -> 0.50" || got["2026-10-01"] != "80 -> 0.30" {
		t.Fatalf("November: total %s, late lines %v; want 10.80 with 100 -> 0.50 (September) and 80 -> 0.30 (October)", nov.Total, got)
	}
	applied, err := usage.AppliedAdjustments(ctx, d.Pool, "cus_late", "api_calls", time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	byRef := map[string]int{}
	for _, a := range applied {
		byRef[a.AppliedRef]++
	}
	if len(applied) != 480 || byRef[oct.Key] != 300 || byRef[nov.Key] != 180 {
		t.Fatalf("applied late readings: %d by invoice %v; want 300 on October's and 180 on November's", len(applied), byRef)
	}
}

// TestLateUsageHeldWhenThePeriodWasTruedUp: a month billed with a minimum-commit true-up keeps its
// late usage pending for review instead of billing it on top of the shortfall already charged.
func TestLateUsageHeldWhenThePeriodWasTruedUp(t *testing.T) {
	ctx := context.Background()
	d, ch, ing := newLateEnv(t, lateCommitContract)
	ev := func(id string, at time.Time) {
		t.Helper()
		if _, err := ing.Ingest(ctx, []usage.Event{{ID: id, Source: "gw", SpecVersion: "1.0", Type: "api.call", Subject: "cus_commit", Time: at}}, usage.IngestOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	bill := activities.New(activities.Deps{Pool: d.Pool, Chart: ch, Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }}).Billing
	ev("sep-1", time.Date(2026, 9, 3, 0, 0, 0, 0, time.UTC))
	for _, p := range [][2]string{{"2026-09-01", "2026-10-01"}, {"2026-10-01", "2026-11-01"}} {
		in := activities.CycleInput{ContractID: "ctr_late_commit", PeriodStart: p[0], PeriodEnd: p[1]}
		if _, err := bill.CloseUsage(ctx, in); err != nil {
			t.Fatal(err)
		}
		dr, err := bill.RateAndDraft(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bill.Finalize(ctx, activities.InvoiceRef{InvoiceID: dr.InvoiceID}); err != nil {
			t.Fatal(err)
		}
		inv, err := invoice.Get(ctx, d.Pool, dr.InvoiceID)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range inv.Lines {
			if l.Kind == "late_usage" {
				t.Fatalf("%s: late usage billed on top of a trued-up month: %+v", p[0], l)
			}
		}
		if inv.Total.StringFixed(2) != "100.00" {
			t.Fatalf("%s: total %s, want the 100.00 commit", p[0], inv.Total)
		}
		if p[0] == "2026-09-01" {
			ev("sep-late", time.Date(2026, 9, 4, 0, 0, 0, 0, time.UTC)) // late: September is invoiced
		}
	}
	if p, err := usage.PendingAdjustments(ctx, d.Pool, "cus_commit"); err != nil || len(p) != 1 {
		t.Fatalf("pending: %d %v, want the late September reading held", len(p), err)
	}
}
