package activities_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/invoice"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/revrec"
)

const revenueContract = `
contract_id: ctr_rev
version: 1
status: active
customer: {external_id: cus_rev, name: Rev Corp}
currency: USD
billing_entity: revhub-us
payment_provider: stripe
payment_method: card
start: 2026-01-01
end: 2027-01-01
billing: {cadence: monthly, timing: in_advance}
meters:
  - {id: api_calls, unit: call}
components:
  - {id: platform, product: platform, model: flat, price: {amount: "1000.00"}}
  - {id: api, product: api_calls, model: per_unit, meter: api_calls, price: {unit_price: "0.01"}}
`

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// finalizeInvoice stores and finalizes an invoice of ctr_rev issued on day and posts its finalization entry
// the way billing does, each line with its treatment.
func finalizeInvoice(t *testing.T, q db.Querier, ch *ledger.Chart, key string, day, start, end invoice.Date,
	lines []invoice.Line, treatments []ledger.Treatment) invoice.Invoice {
	t.Helper()
	ctx := context.Background()
	d, err := invoice.CreateDraft(ctx, q, invoice.Draft{Key: key, Kind: invoice.KindCycle, ContractID: "ctr_rev", ContractVersion: 1,
		CustomerID: "cus_rev", BillingEntity: "revhub-us", Currency: "USD", PeriodStart: start, PeriodEnd: end,
		PaymentTermsDays: 30, Lines: lines})
	if err != nil {
		t.Fatalf("draft %s: %v", key, err)
	}
	inv, err := invoice.Finalize(ctx, q, d.ID, day.Time())
	if err != nil {
		t.Fatalf("finalize %s: %v", key, err)
	}
	li := ledger.Invoice{ID: inv.ID, Party: ledger.Party{Entity: "revhub-us", Customer: "cus_rev", Contract: "ctr_rev"},
		Date: day.Time(), Currency: "USD"}
	for i, l := range inv.Lines {
		li.Lines = append(li.Lines, ledger.InvoiceLine{Product: l.Product, Amount: l.Amount, Treatment: treatments[i]})
	}
	e, err := ledger.InvoiceFinalized(ch, li)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Post(ctx, q, ch, e); err != nil {
		t.Fatal(err)
	}
	return inv
}

func day(s string) invoice.Date {
	d, err := invoice.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func postings(t *testing.T, q db.Querier, key string) string {
	t.Helper()
	e, err := ledger.GetEntry(context.Background(), q, key)
	if err != nil {
		t.Fatalf("entry %s: %v", key, err)
	}
	var parts []string
	for _, p := range e.Postings {
		parts = append(parts, string(p.Side)+" "+p.Account+" "+p.Amount.StringFixed(2))
	}
	return strings.Join(parts, ", ")
}

// contractPosition is ctr_rev's deferred revenue (2400, credit balance) and unbilled receivable (1150, debit
// balance) in the ledger, through a period.
func contractPosition(t *testing.T, q db.Querier, through string) (deferred, unbilled decimal.Decimal) {
	t.Helper()
	es, err := ledger.Entries(context.Background(), q, ledger.BalanceQuery{Entity: "revhub-us", ToPeriod: through})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		for _, p := range e.Postings {
			switch {
			case p.Contract != "ctr_rev":
			case p.Account == "2400":
				deferred = deferred.Sub(p.Signed())
			case p.Account == "1150":
				unbilled = unbilled.Add(p.Signed())
			}
		}
	}
	return deferred, unbilled
}

func TestRecognizeMonthAlreadyDone(t *testing.T) {
	ctx := context.Background()
	d, ch := newChartDB(t)
	createContracts(t, d.Pool, revenueContract)
	rev := activities.New(activities.Deps{Pool: d.Pool, Chart: ch}).Revenue
	run := func(month string) activities.RecognizeOutput {
		t.Helper()
		out, err := rev.RecognizeMonth(ctx, activities.RecognizeInput{Entity: "revhub-us", Month: month})
		if err != nil {
			t.Fatalf("recognize %s: %v", month, err)
		}
		return out
	}

	// January: the platform fee billed in advance on 1 January is deferred and recognized by day.
	finalizeInvoice(t, d.Pool, ch, "rev:2026-01", day("2026-01-01"), day("2026-01-01"), day("2026-02-01"),
		[]invoice.Line{{Kind: "recurring", ComponentID: "platform", Product: "platform", Description: "Platform January",
			Quantity: dec("1"), Amount: dec("1000.00")}}, []ledger.Treatment{ledger.BilledInAdvance})
	out := run("2026-01")
	if out.Arrangements != 1 || out.SchedulesSaved != 1 || out.EntriesPosted != 1 ||
		len(out.Recognized) != 1 || !out.Recognized[0].Amount.Equal(dec("1019.18")) {
		t.Fatalf("january: %+v", out)
	}
	if got, want := postings(t, d.Pool, "revrec:ctr_rev:2026-01:recognition"),
		"debit 2400 1000.00, debit 1150 19.18, credit 4010 1019.18"; got != want {
		t.Fatalf("january recognition:\n got %s\nwant %s", got, want)
	}
	// Already done: the same run again computes the same schedule and posts nothing.
	if again := run("2026-01"); again.SchedulesSaved != 0 || again.EntriesPosted != 0 || !again.Recognized[0].Amount.Equal(dec("1019.18")) {
		t.Fatalf("january rerun: %+v", again)
	}

	// February: the invoice of 1 February bills February's fee in advance and January's usage, which
	// billing credits to unbilled receivable. January (still open) gets an adjustment for its usage.
	finalizeInvoice(t, d.Pool, ch, "rev:2026-02", day("2026-02-01"), day("2026-02-01"), day("2026-03-01"),
		[]invoice.Line{
			{Kind: "recurring", ComponentID: "platform", Product: "platform", Description: "Platform February", Quantity: dec("1"), Amount: dec("1000.00")},
			{Kind: "usage", ComponentID: "api", Product: "api_calls", Description: "API calls January", Quantity: dec("25000"),
				Amount: dec("250.00"), PeriodStart: day("2026-01-01"), PeriodEnd: day("2026-02-01")},
		}, []ledger.Treatment{ledger.BilledInAdvance, ledger.UsageRecognized})
	out = run("2026-02")
	if out.SchedulesSaved != 1 || out.EntriesPosted != 3 {
		t.Fatalf("february: %+v", out)
	}
	if got, want := postings(t, d.Pool, "revrec:ctr_rev:2026-01:recognition:run-2"), "debit 1150 250.00, credit 4020 250.00"; got != want {
		t.Fatalf("january adjustment:\n got %s\nwant %s", got, want)
	}
	if got, want := postings(t, d.Pool, "revrec:ctr_rev:2026-02:recognition"), "debit 2400 920.54, credit 4010 920.54"; got != want {
		t.Fatalf("february recognition:\n got %s\nwant %s", got, want)
	}
	// Billing credited February's fee to deferred revenue and January's usage to unbilled receivable; the
	// schedule nets the contract's position, so the month end moves 19.18 of deferred against unbilled.
	if got, want := postings(t, d.Pool, "revrec:ctr_rev:2026-02:reclass"), "debit 2400 19.18, credit 1150 19.18"; got != want {
		t.Fatalf("february reclass:\n got %s\nwant %s", got, want)
	}
	// Already done, also once January is closed.
	if again := run("2026-02"); again.SchedulesSaved != 0 || again.EntriesPosted != 0 {
		t.Fatalf("february rerun: %+v", again)
	}
	if err := ledger.ClosePeriod(ctx, d.Pool, "revhub-us", "2026-01", "controller"); err != nil {
		t.Fatal(err)
	}
	if again := run("2026-02"); again.EntriesPosted != 0 {
		t.Fatalf("february rerun after the january close: %+v", again)
	}
	// The ledger holds exactly the schedule's deferred revenue and unbilled receivable at each month end.
	lines, err := revrec.LoadLines(ctx, d.Pool, revrec.LineFilter{ArrangementID: "ctr_rev", Through: revrec.MustMonth("2026-02")})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range revrec.Balances(lines) {
		def, unb := contractPosition(t, d.Pool, b.Month.String())
		if !def.Equal(b.Deferred) || !unb.Equal(b.Unbilled) {
			t.Errorf("%s: ledger deferred %s unbilled %s, schedule deferred %s unbilled %s", b.Month, def, unb, b.Deferred, b.Unbilled)
		}
	}
}

func TestRecognizeMonthRefusesContractsItCannotRecognize(t *testing.T) {
	ctx := context.Background()
	d, ch := newChartDB(t)
	createContracts(t, d.Pool, revenueContract,
		strings.NewReplacer("ctr_rev", "ctr_evergreen", "end: 2027-01-01\n", "").Replace(revenueContract),
		// A contract billed from another entity is not this run's business.
		strings.NewReplacer("ctr_rev", "ctr_eu", "revhub-us", "revhub-eu").Replace(revenueContract))
	finalizeInvoice(t, d.Pool, ch, "rev:2026-01", day("2026-01-01"), day("2026-01-01"), day("2026-02-01"),
		[]invoice.Line{{Kind: "recurring", ComponentID: "platform", Product: "platform", Description: "Platform January",
			Quantity: dec("1"), Amount: dec("1000.00")}}, []ledger.Treatment{ledger.BilledInAdvance})
	rev := activities.New(activities.Deps{Pool: d.Pool, Chart: ch}).Revenue
	for attempt := 1; attempt <= 2; attempt++ {
		out, err := rev.RecognizeMonth(ctx, activities.RecognizeInput{Entity: "revhub-us", Month: "2026-01"})
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.Type() != activities.ErrInvalidContract || !app.NonRetryable() ||
			!strings.Contains(err.Error(), "ctr_evergreen") || !strings.Contains(err.Error(), "evergreen contract has no end date") {
			t.Fatalf("attempt %d: want a non-retryable InvalidContract naming ctr_evergreen, got %v", attempt, err)
		}
		// The valid contract is recognized all the same, once.
		if wantPosted := map[int]int{1: 1, 2: 0}[attempt]; out.Arrangements != 1 || out.EntriesPosted != wantPosted {
			t.Fatalf("attempt %d: %+v", attempt, out)
		}
	}

	// Bad input names every field at once.
	_, err := rev.RecognizeMonth(ctx, activities.RecognizeInput{Month: "2026-13", Amendments: []activities.AmendmentMethod{{ContractID: "ctr_rev", Version: 1, Method: "guess"}}})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != activities.ErrInvalidInput || !app.NonRetryable() {
		t.Fatalf("bad input: %v", err)
	}
	for _, want := range []string{"entity: required", "month:", "amendments[0].version", "amendments[0].method", "amendments[0].reason"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("bad input error %q does not name %s", err, want)
		}
	}
}

// TestRecognizeMonthRespectsBillingTreatments: usage that billing posted straight to revenue (the
// right-to-invoice expedient) is not recognized again, and an invoice finalized without its ledger entry
// yet holds the run back (retryable) rather than recognizing against a billing the ledger does not have.
func TestRecognizeMonthRespectsBillingTreatments(t *testing.T) {
	ctx := context.Background()
	d, ch := newChartDB(t)
	createContracts(t, d.Pool, revenueContract)
	finalizeInvoice(t, d.Pool, ch, "rev:2026-01", day("2026-01-01"), day("2026-01-01"), day("2026-02-01"),
		[]invoice.Line{
			{Kind: "recurring", ComponentID: "platform", Product: "platform", Description: "Platform January", Quantity: dec("1"), Amount: dec("1000.00")},
			{Kind: "usage", ComponentID: "api", Product: "api_calls", Description: "API calls January", Quantity: dec("100"),
				Amount: dec("1.00"), PeriodStart: day("2026-01-01"), PeriodEnd: day("2026-02-01")},
		}, []ledger.Treatment{ledger.BilledInAdvance, ledger.RecognizedAsBill})
	rev := activities.New(activities.Deps{Pool: d.Pool, Chart: ch}).Revenue
	out, err := rev.RecognizeMonth(ctx, activities.RecognizeInput{Entity: "revhub-us", Month: "2026-01"})
	if err != nil || out.EntriesPosted != 1 || !out.Recognized[0].Amount.Equal(dec("1019.18")) {
		t.Fatalf("january: %v %+v", err, out)
	}
	if got, want := postings(t, d.Pool, "revrec:ctr_rev:2026-01:recognition"),
		"debit 2400 1000.00, debit 1150 19.18, credit 4010 1019.18"; got != want {
		t.Fatalf("january recognition:\n got %s\nwant %s", got, want)
	}

	// A finalized invoice whose finalization entry is missing: retryable, nothing posted for it.
	draft, err := invoice.CreateDraft(ctx, d.Pool, invoice.Draft{Key: "rev:2026-02", Kind: invoice.KindCycle, ContractID: "ctr_rev",
		ContractVersion: 1, CustomerID: "cus_rev", BillingEntity: "revhub-us", Currency: "USD", PeriodStart: day("2026-02-01"),
		PeriodEnd: day("2026-03-01"), PaymentTermsDays: 30, Lines: []invoice.Line{{Kind: "recurring", ComponentID: "platform",
			Product: "platform", Description: "Platform February", Quantity: dec("1"), Amount: dec("1000.00")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := invoice.Finalize(ctx, d.Pool, draft.ID, day("2026-02-01").Time()); err != nil {
		t.Fatal(err)
	}
	_, err = rev.RecognizeMonth(ctx, activities.RecognizeInput{Entity: "revhub-us", Month: "2026-02"})
	var app *temporal.ApplicationError
	if err == nil || (errors.As(err, &app) && app.NonRetryable()) || !strings.Contains(err.Error(), "invoice:"+draft.ID+":finalized is not posted yet") {
		t.Fatalf("missing finalization entry: want a retryable error naming it, got %v", err)
	}
	if _, err := ledger.GetEntry(ctx, d.Pool, "revrec:ctr_rev:2026-02:recognition"); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("february was recognized without its billing: %v", err)
	}
}

// TestRecognizeMonthBreakage: a monthly minimum commit recognizes the shortfall as breakage at month end;
// once the usage is invoiced the next month, the open month's breakage is adjusted down to the true shortfall.
func TestRecognizeMonthBreakage(t *testing.T) {
	ctx := context.Background()
	d, ch := newChartDB(t)
	doc := strings.NewReplacer(
		"timing: in_advance", "timing: in_arrears",
		`  - {id: platform, product: platform, model: flat, price: {amount: "1000.00"}}`+"\n", "",
	).Replace(revenueContract) + "commit: {amount: \"500.00\"}\n"
	createContracts(t, d.Pool, doc)
	rev := activities.New(activities.Deps{Pool: d.Pool, Chart: ch}).Revenue
	out, err := rev.RecognizeMonth(ctx, activities.RecognizeInput{Entity: "revhub-us", Month: "2026-01"})
	if err != nil || out.EntriesPosted != 1 || !out.Breakage[0].Amount.Equal(dec("500.00")) {
		t.Fatalf("january before its usage is invoiced: %v %+v", err, out)
	}
	if got, want := postings(t, d.Pool, "revrec:ctr_rev:2026-01:breakage"), "debit 1150 500.00, credit 4950 500.00"; got != want {
		t.Fatalf("january breakage:\n got %s\nwant %s", got, want)
	}

	finalizeInvoice(t, d.Pool, ch, "rev:2026-01", day("2026-02-01"), day("2026-01-01"), day("2026-02-01"),
		[]invoice.Line{
			{Kind: "usage", ComponentID: "api", Product: "api_calls", Description: "API calls January", Quantity: dec("30000"), Amount: dec("300.00")},
			{Kind: "commit_true_up", Product: "commit", Description: "Minimum commit shortfall January", Quantity: dec("1"), Amount: dec("200.00")},
		}, []ledger.Treatment{ledger.UsageRecognized, ledger.UsageRecognized})
	for attempt := 1; attempt <= 2; attempt++ {
		out, err = rev.RecognizeMonth(ctx, activities.RecognizeInput{Entity: "revhub-us", Month: "2026-01"})
		if wantPosted := map[int]int{1: 2, 2: 0}[attempt]; err != nil || out.EntriesPosted != wantPosted ||
			!out.Breakage[0].Amount.Equal(dec("200.00")) || !out.Recognized[0].Amount.Equal(dec("500.00")) {
			t.Fatalf("january after its usage is invoiced, attempt %d: %v %+v", attempt, err, out)
		}
	}
	if got, want := postings(t, d.Pool, "revrec:ctr_rev:2026-01:recognition"), "debit 1150 300.00, credit 4020 300.00"; got != want {
		t.Fatalf("january usage:\n got %s\nwant %s", got, want)
	}
	if got, want := postings(t, d.Pool, "revrec:ctr_rev:2026-01:breakage:run-2"), "debit 4950 300.00, credit 1150 300.00"; got != want {
		t.Fatalf("january breakage adjustment:\n got %s\nwant %s", got, want)
	}
	// Billing's 500.00 against unbilled receivable and the run's 500.00 of revenue leave the contract square.
	if def, unb := contractPosition(t, d.Pool, "2026-02"); !def.IsZero() || !unb.IsZero() {
		t.Fatalf("contract position in the ledger: deferred %s unbilled %s", def, unb)
	}
}

// TestRecognizeMonthAmendmentMethods: an amendment needs an accounting method, chosen once by revenue ops;
// later runs reuse the method recorded with the schedule.
func TestRecognizeMonthAmendmentMethods(t *testing.T) {
	ctx := context.Background()
	d, ch := newChartDB(t)
	v1 := createContracts(t, d.Pool, revenueContract)[0]
	v2 := v1
	v2.Version, v2.EffectiveFrom = 2, contract.MustDate("2026-07-01")
	v2.Components = append([]contract.Component(nil), v1.Components...)
	v2.Components[0].Price.Amount = dec("1500.00")
	if _, err := contract.Amend(ctx, d.Pool, v2, contract.MustDate("2026-07-01")); err != nil {
		t.Fatal(err)
	}
	rev := activities.New(activities.Deps{Pool: d.Pool, Chart: ch}).Revenue
	recognize := func(ams ...activities.AmendmentMethod) (activities.RecognizeOutput, error) {
		return rev.RecognizeMonth(ctx, activities.RecognizeInput{Entity: "revhub-us", Month: "2026-01", Amendments: ams})
	}

	_, err := recognize()
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != activities.ErrInvalidContract || !strings.Contains(err.Error(), "no accounting method chosen for amendment version 2") {
		t.Fatalf("without a method: %v", err)
	}
	out, err := recognize(activities.AmendmentMethod{ContractID: "ctr_rev", Version: 2, Method: "prospective",
		Reason: "the price rise applies to the remaining months of access, which are distinct"})
	if err != nil || out.EntriesPosted != 1 || out.SchedulesSaved != 1 {
		t.Fatalf("with a method: %v %+v", err, out)
	}
	run, _, err := revrec.LatestRun(ctx, d.Pool, "ctr_rev")
	if err != nil || len(run.Versions) != 2 || run.Versions[1].Method != revrec.MethodProspective || !strings.Contains(run.Versions[1].Reason, "distinct") {
		t.Fatalf("recorded run: %v %+v", err, run.Versions)
	}
	// Next time the recorded method applies: same input, already done.
	if out, err := recognize(); err != nil || out.EntriesPosted != 0 || out.SchedulesSaved != 0 {
		t.Fatalf("with the recorded method: %v %+v", err, out)
	}
}
