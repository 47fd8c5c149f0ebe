package activities_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/internal/audit"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/invoice"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/recon"
	"github.com/revhub/revhub/internal/usage"
)

const closeMonthly = `
contract_id: ctr_close_m
version: 1
status: active
customer: {external_id: cus_m, name: Monthly Corp}
currency: USD
billing_entity: close-us
payment_provider: stripe
payment_method: card
start: 2026-01-01
end: 2027-01-01
billing: {cadence: monthly, timing: in_advance}
components:
  - {id: platform, product: platform, model: flat, price: {amount: "1000.00"}}
`

const closeQuarterly = `
contract_id: ctr_close_q
version: 1
status: active
customer: {external_id: cus_q, name: Quarterly Corp}
currency: USD
billing_entity: close-us
payment_provider: bank
start: 2026-01-01
end: 2027-01-01
billing: {cadence: quarterly, timing: in_advance}
components:
  - {id: platform, product: platform, model: flat, price: {amount: "3000.00"}}
`

type closeEnv struct {
	ctx context.Context
	d   *dbtest.DB
	ch  *ledger.Chart
	a   *activities.Close
}

func newCloseEnv(t *testing.T) *closeEnv {
	t.Helper()
	d, ch := newChartDB(t)
	createContracts(t, d.Pool, closeMonthly, closeQuarterly)
	return &closeEnv{ctx: context.Background(), d: d, ch: ch, a: activities.New(activities.Deps{Pool: d.Pool, Chart: ch}).Close}
}

// invoiceFor finalizes a one-line platform invoice of a contract issued on day; post also books its ledger entry.
func (e *closeEnv) invoiceFor(t *testing.T, contractID, customer, amount, day string, post bool) invoice.Invoice {
	t.Helper()
	d, _ := invoice.ParseDate(day)
	dr, err := invoice.CreateDraft(e.ctx, e.d.Pool, invoice.Draft{Key: "invoice:" + contractID + ":" + day, Kind: invoice.KindCycle,
		ContractID: contractID, ContractVersion: 1, CustomerID: customer, BillingEntity: "close-us", Currency: "USD",
		PeriodStart: d, PeriodEnd: d.AddDays(30), PaymentTermsDays: 30,
		Lines: []invoice.Line{{Kind: "recurring", ComponentID: "platform", Product: "platform", Description: "Platform", Quantity: dec("1"), Amount: dec(amount)}}})
	if err != nil {
		t.Fatalf("draft: %v", err)
	}
	inv, err := invoice.Finalize(e.ctx, e.d.Pool, dr.ID, d.Time())
	if err != nil {
		t.Fatalf("finalize: %v", err)
	}
	if post {
		en, err := ledger.InvoiceFinalized(e.ch, ledger.Invoice{ID: inv.ID, Party: ledger.Party{Entity: "close-us", Customer: customer, Contract: contractID},
			Date: d.Time(), Currency: "USD", Lines: []ledger.InvoiceLine{{Product: "platform", Amount: dec(amount), Treatment: ledger.BilledInAdvance}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ledger.Post(e.ctx, e.d.Pool, e.ch, en); err != nil {
			t.Fatal(err)
		}
	}
	return inv
}

func errType(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Type()
	}
	return ""
}

func TestDueCyclesPagesAndPicksPeriodsEndingInTheMonth(t *testing.T) {
	e := newCloseEnv(t)
	all := func(period string) []activities.DueCycle {
		t.Helper()
		var out []activities.DueCycle
		after := ""
		for pages := 0; ; pages++ {
			page, err := e.a.DueCycles(e.ctx, activities.DueInput{Entity: "close-us", Period: period, After: after, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, page.Cycles...)
			if page.Next == "" {
				return out
			}
			if pages > 3 {
				t.Fatal("pagination does not end")
			}
			after = page.Next
		}
	}
	feb := all("2026-02")
	if len(feb) != 1 || feb[0] != (activities.DueCycle{ContractID: "ctr_close_m", Customer: "cus_m", Provider: "stripe", PeriodStart: "2026-02-01", PeriodEnd: "2026-03-01"}) {
		t.Fatalf("February: %+v", feb)
	}
	mar := all("2026-03")
	want := []activities.DueCycle{
		{ContractID: "ctr_close_m", Customer: "cus_m", Provider: "stripe", PeriodStart: "2026-03-01", PeriodEnd: "2026-04-01"},
		{ContractID: "ctr_close_q", Customer: "cus_q", Provider: "bank", PeriodStart: "2026-01-01", PeriodEnd: "2026-04-01"},
	}
	if len(mar) != 2 || mar[0] != want[0] || mar[1] != want[1] {
		t.Fatalf("March: %+v, want %+v", mar, want)
	}
	if got, err := e.a.DueCycles(e.ctx, activities.DueInput{Entity: "other", Period: "2026-03"}); err != nil || len(got.Cycles) != 0 {
		t.Fatalf("other entity: %+v %v", got, err)
	}
	_, err := e.a.DueCycles(e.ctx, activities.DueInput{Entity: "a/b", Period: "2026-13", Limit: -1})
	if errType(err) != activities.ErrInvalidInput {
		t.Fatalf("bad input: %v", err)
	}
	for _, field := range []string{"entity:", "period:", "limit:"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Fatalf("error %v does not name %s", err, field)
		}
	}
}

func TestRunCheckBlocksRetriesAndApproves(t *testing.T) {
	e := newCloseEnv(t)
	posted := e.invoiceFor(t, "ctr_close_m", "cus_m", "1000.00", "2026-03-01", true)
	unposted := e.invoiceFor(t, "ctr_close_q", "cus_q", "3000.00", "2026-03-02", false)
	e.invoiceFor(t, "ctr_close_m", "cus_m", "1000.00", "2026-04-01", true) // next month: not in the check
	run := activities.CloseRun("close-us", "2026-03")
	in := activities.CheckInput{Entity: "close-us", Period: "2026-03", Run: run, Step: "invoicing", Check: recon.CheckInvoicesVsLedger, Attempt: 1}

	out, err := e.a.RunCheck(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != recon.StatusBlocked || out.Differences != 1 || out.Left.Count != 2 || out.Right.Count != 1 {
		t.Fatalf("check: %+v", out)
	}
	if !out.Left.Totals[0].Amount.Equal(dec("4000")) || !out.Right.Totals[0].Amount.Equal(dec("1000")) {
		t.Fatalf("totals: %+v vs %+v", out.Left.Totals, out.Right.Totals)
	}
	if want := unposted.ID + ": on invoices (3000 USD) but not on ledger:accounts_receivable"; out.Exceptions[0] != want {
		t.Fatalf("exception %q, want %q", out.Exceptions[0], want)
	}

	// Already done: the retried activity stores nothing new, even after the data moved.
	e.invoiceFor(t, "ctr_close_q", "cus_m", "10.00", "2026-03-01", false) // another cycle ending in March
	again, err := e.a.RunCheck(e.ctx, in)
	if err != nil || again.ResultID != out.ResultID || again.Differences != 1 {
		t.Fatalf("retry: %+v %v (first %d)", again, err, out.ResultID)
	}
	// The next attempt sees the new invoice.
	in.Attempt = 2
	second, err := e.a.RunCheck(e.ctx, in)
	if err != nil || second.Attempt != 2 || second.Differences != 2 || second.ResultID == out.ResultID {
		t.Fatalf("attempt 2: %+v %v", second, err)
	}
	// Skipping a customer leaves its items out of both sides.
	in.Attempt, in.SkipCustomers = 3, []string{"cus_q"}
	skipped, err := e.a.RunCheck(e.ctx, in)
	if err != nil || skipped.Differences != 1 || skipped.Left.Count != 2 {
		t.Fatalf("skip: %+v %v", skipped, err)
	}

	key, _, _ := strings.Cut(skipped.Exceptions[0], ": ")
	// Approve the last attempt's one difference: approved, audited; repeating it is a no-op.
	ap := activities.ApproveInput{Run: run, Check: recon.CheckInvoicesVsLedger, DifferenceKey: key,
		Actor: "user:controller@acme.test", Reason: "posted by hand in the ERP"}
	dec1, err := e.a.Approve(e.ctx, ap)
	if err != nil || dec1.Status != recon.StatusApproved || dec1.Attempt != 3 {
		t.Fatalf("approve: %+v %v", dec1, err)
	}
	// The activity retried after the approval reports the attempt as approved.
	retried, err := e.a.RunCheck(e.ctx, in)
	if err != nil || retried.Status != recon.StatusApproved || retried.ResultID != skipped.ResultID {
		t.Fatalf("retried after approval: %+v %v", retried, err)
	}
	prior, err := e.a.LatestAttempts(e.ctx, activities.RunRef{Run: run})
	if err != nil || len(prior) != 1 || prior[recon.CheckInvoicesVsLedger] != 3 {
		t.Fatalf("latest attempts: %v %v", prior, err)
	}
	dec2, err := e.a.Approve(e.ctx, ap)
	if err != nil || dec2.DecisionID != dec1.DecisionID {
		t.Fatalf("approve again: %+v %v", dec2, err)
	}
	ap.Reason = "another reason"
	if _, err := e.a.Approve(e.ctx, ap); errType(err) != activities.ErrInvalidInput {
		t.Fatalf("conflicting approval: %v", err)
	}
	entries, err := audit.List(e.ctx, e.d.Pool, recon.Subject(run, recon.CheckInvoicesVsLedger), 10)
	if err != nil || len(entries) != 1 || entries[0].Actor != "user:controller@acme.test" {
		t.Fatalf("audit: %+v %v", entries, err)
	}
	_ = posted
}

func TestBillingsVsDeferredRevenue(t *testing.T) {
	e := newCloseEnv(t)
	e.invoiceFor(t, "ctr_close_m", "cus_m", "1000.00", "2026-03-01", true)
	run := activities.CloseRun("close-us", "2026-03")
	in := activities.CheckInput{Entity: "close-us", Period: "2026-03", Run: run, Step: "revenue", Check: recon.CheckBillingsVsDeferredRevenue, Attempt: 1}
	out, err := e.a.RunCheck(e.ctx, in)
	if err != nil || out.Status != recon.StatusGreen || out.Left.Count != 1 || !out.Left.Totals[0].Amount.Equal(dec("1000")) {
		t.Fatalf("green: %+v %v", out, err)
	}
	e.invoiceFor(t, "ctr_close_q", "cus_q", "3000.00", "2026-03-02", false)
	in.Attempt = 2
	out, err = e.a.RunCheck(e.ctx, in)
	if err != nil || out.Status != recon.StatusBlocked || out.Exceptions[0] != "2400:USD: billings_in_advance has 4000, ledger:deferred_revenue_roll_forward has 1000 USD" {
		t.Fatalf("blocked: %+v %v", out, err)
	}
}

func TestRecordDecisionOncePerKey(t *testing.T) {
	e := newCloseEnv(t)
	in := activities.DecisionInput{Key: "close/close-us/2026-03:decision:1", Run: "close/close-us/2026-03", Action: activities.ActionCloseSkipCustomer,
		Actor: "user:ops@acme.test", Reason: "disputed, billed next month", Details: map[string]string{"customer": "cus_q"}}
	first, err := e.a.RecordDecision(e.ctx, in)
	if err != nil || first.AlreadyRecorded {
		t.Fatalf("first: %+v %v", first, err)
	}
	again, err := e.a.RecordDecision(e.ctx, in)
	if err != nil || !again.AlreadyRecorded || again.AuditID != first.AuditID {
		t.Fatalf("retry: %+v %v", again, err)
	}
	in.Reason = "something else"
	if _, err := e.a.RecordDecision(e.ctx, in); errType(err) != activities.ErrKeyConflict {
		t.Fatalf("conflict: %v", err)
	}
	entries, err := audit.List(e.ctx, e.d.Pool, "close/close-us/2026-03", 10)
	if err != nil || len(entries) != 1 || entries[0].Action != activities.ActionCloseSkipCustomer {
		t.Fatalf("audit: %+v %v", entries, err)
	}
	if _, err := e.a.RecordDecision(e.ctx, activities.DecisionInput{}); errType(err) != activities.ErrInvalidInput || !strings.Contains(err.Error(), "actor: required") {
		t.Fatalf("empty: %v", err)
	}
}

func TestPriorDecisionsIsTheHighestRecordedNumber(t *testing.T) {
	e := newCloseEnv(t)
	run := "close/close-us/2026-03"
	n, err := e.a.PriorDecisions(e.ctx, activities.RunRef{Run: run})
	if err != nil || n != 0 {
		t.Fatalf("new run: %d %v", n, err)
	}
	// Decisions 1 and 3 were recorded (2 was a rejected signal, never recorded); another run's and
	// a key of another shape do not count.
	for _, key := range []string{run + ":decision:1", run + ":decision:3", "close/close-us/2026-04:decision:9", run + ":start"} {
		r := run
		if strings.Contains(key, "2026-04") {
			r = "close/close-us/2026-04"
		}
		if _, err := e.a.RecordDecision(e.ctx, activities.DecisionInput{Key: key, Run: r, Action: activities.ActionCloseRetryStep,
			Actor: "user:ops@acme.test", Reason: "late report"}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // read-only: asking again gives the same answer
		if n, err = e.a.PriorDecisions(e.ctx, activities.RunRef{Run: run}); err != nil || n != 3 {
			t.Fatalf("after decisions 1 and 3: %d %v", n, err)
		}
	}
	if _, err := e.a.PriorDecisions(e.ctx, activities.RunRef{}); errType(err) != activities.ErrInvalidInput || !strings.Contains(err.Error(), "run: required") {
		t.Fatalf("empty run: %v", err)
	}
}

func TestCloseLedgerPeriodTwiceThenRefusesEntries(t *testing.T) {
	e := newCloseEnv(t)
	for range 2 {
		if err := e.a.CloseLedgerPeriod(e.ctx, activities.ClosePeriodInput{Entity: "close-us", Period: "2026-03", By: "close/close-us/2026-03"}); err != nil {
			t.Fatal(err)
		}
	}
	en, err := ledger.InvoiceFinalized(e.ch, ledger.Invoice{ID: "inv_late", Party: ledger.Party{Entity: "close-us", Customer: "cus_m", Contract: "ctr_close_m"},
		Date: ledger.Date(2026, 3, 15), Currency: "USD", Lines: []ledger.InvoiceLine{{Product: "platform", Amount: dec("5.00"), Treatment: ledger.BilledInAdvance}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Post(e.ctx, e.d.Pool, e.ch, en); err == nil {
		t.Fatal("an entry dated in the closed period was accepted")
	}
}

const closeUsageContract = `
contract_id: ctr_close_u%[1]s
version: 1
status: active
customer: {external_id: cus_u%[1]s, name: Usage Corp}
currency: EUR
billing_entity: close-us
payment_provider: paypal
start: 2026-01-01
billing: {cadence: monthly, timing: in_arrears}
meters:
  - {id: api_calls, unit: call}
components:
  - {id: api, product: api_calls, model: per_unit, meter: api_calls, free_units: "100", price: {unit_price: "0.01"}}
`

func TestUsageVsRated(t *testing.T) {
	e := newCloseEnv(t)
	ctx := e.ctx
	if _, err := usage.InsertMeter(ctx, e.d.Pool, &usage.Meter{Slug: "api_calls", EventType: "api.call", Aggregation: usage.Sum, ValueProperty: "$.calls"}); err != nil {
		t.Fatal(err)
	}
	ing, err := usage.NewIngester(ctx, e.d.Pool, usage.IngesterOptions{Now: func() time.Time { return time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ing.Close)
	var evs []usage.Event
	for i, n := range []int{100, 200, 50} {
		for _, cus := range []string{"cus_u1", "cus_u2"} {
			evs = append(evs, usage.Event{ID: fmt.Sprintf("%s-%d", cus, i), Source: "test", SpecVersion: "1.0", Type: "api.call", Subject: cus,
				Time: time.Date(2026, 3, 3+i, 10, 0, 0, 0, time.UTC), Data: []byte(fmt.Sprintf(`{"calls": %d}`, n))})
		}
	}
	if _, err := ing.Ingest(ctx, evs, usage.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	// cus_u1's invoice rated all 350 calls (250 billable after 100 free); cus_u2's rated only 300.
	for i, rated := range []string{`{"meter": "api_calls", "metered": "350", "free_units": "100", "formula": "", "clause": "", "unrounded": "2.5", "rounding": ""}`,
		`{"meter": "api_calls", "metered": "300", "free_units": "100", "formula": "", "clause": "", "unrounded": "2", "rounding": ""}`} {
		n := fmt.Sprint(i + 1)
		createContracts(t, e.d.Pool, fmt.Sprintf(closeUsageContract, n))
		start, _ := invoice.ParseDate("2026-03-01")
		end, _ := invoice.ParseDate("2026-04-01")
		d, err := invoice.CreateDraft(ctx, e.d.Pool, invoice.Draft{Key: "invoice:ctr_close_u" + n, Kind: invoice.KindCycle, ContractID: "ctr_close_u" + n, ContractVersion: 1,
			CustomerID: "cus_u" + n, BillingEntity: "close-us", Currency: "EUR", PeriodStart: start, PeriodEnd: end, PaymentTermsDays: 30,
			Lines: []invoice.Line{{Kind: "usage", ComponentID: "api", Product: "api_calls", Description: "API calls", Quantity: dec("250"), Amount: dec("2.50"), Explanation: []byte(rated)}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := invoice.Finalize(ctx, e.d.Pool, d.ID, end.Time()); err != nil {
			t.Fatal(err)
		}
	}
	out, err := e.a.RunCheck(ctx, activities.CheckInput{Entity: "close-us", Period: "2026-03", Run: activities.CloseRun("close-us", "2026-03"), Step: "billing",
		Check: recon.CheckUsageVsRated, Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != recon.StatusBlocked || out.Left.Count != 2 || out.Right.Count != 2 || out.Differences != 1 ||
		out.Exceptions[0] != "cus_u2:api_calls:2026-03-01: usage_rollups has 350, rated_quantities has 300 EUR" {
		t.Fatalf("check: %+v", out)
	}
}
