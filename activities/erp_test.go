package activities_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/connectors/netsuite"
	"github.com/revhub/revhub/connectors/netsuite/fake"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/money"
	"github.com/revhub/revhub/internal/notice"
	"github.com/revhub/revhub/internal/recon"
	"github.com/revhub/revhub/mappings"
)

const erpMappingYAML = `
mode: one_to_one
accounts: {"1000": "110", "1100": "119", "1150": "120", "1210": "131", "1220": "132", "1230": "133", "2400": "250",
  "4000": "400", "4010": "401", "4020": "402", "4030": "403", "4080": "408", "4900": "490", "4950": "495", "6100": "610"}
subsidiaries: {us: "1", eu: "2"}
currencies: {USD: "1", EUR: "4"}
departments: {platform: "5", usage: "6", "*": "9"}
`

// erpEnv is a migrated database with the default chart, a fake NetSuite account and the ERP activities.
type erpEnv struct {
	erp   *activities.ERP
	fake  *fake.Server
	ns    *netsuite.Client
	deps  activities.Deps
	chart *ledger.Chart
}

func newERPEnv(t testing.TB, mode mappings.NetSuiteMode) *erpEnv {
	t.Helper()
	d, chart := newChartDB(t)
	f := fake.New(fake.Options{Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	ns, err := netsuite.New(netsuite.Config{AccountID: fake.DefaultAccountID, BaseURL: srv.URL, Credentials: fake.DefaultCredentials,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := mappings.ParseNetSuiteConfig([]byte(erpMappingYAML))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Mode = mode
	deps := activities.Deps{Pool: d.Pool, Chart: chart, NetSuite: ns, NetSuiteMapping: cfg, Log: slog.New(slog.DiscardHandler)}
	return &erpEnv{erp: activities.New(deps).ERP, fake: f, ns: ns, deps: deps, chart: chart}
}

// postInvoices posts n finalized invoices of 100.00 + i for entity on the given days of November 2026.
func (e *erpEnv) postInvoices(t testing.TB, entity string, n int, day func(i int) int) []string {
	t.Helper()
	cur := money.Currency("USD")
	if entity == "eu" {
		cur = "EUR"
	}
	var keys []string
	for i := 1; i <= n; i++ {
		en, err := ledger.InvoiceFinalized(e.chart, ledger.Invoice{ID: fmt.Sprintf("%s_inv_%d", entity, i),
			Party: ledger.Party{Entity: entity, Customer: "cus_1", Contract: "con_1"}, Date: ledger.Date(2026, 11, day(i)),
			Currency: cur, Lines: []ledger.InvoiceLine{
				{Product: "platform", Amount: decimal.NewFromInt(100 + int64(i)), Treatment: ledger.BilledInAdvance},
				{Product: "usage", Amount: decimal.RequireFromString("12.34"), Treatment: ledger.RecognizedAsBill}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ledger.Post(context.Background(), e.deps.Pool, e.chart, en); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, en.Key)
	}
	return keys
}

func sameDay(int) int { return 3 }

// puts counts the journal upserts the fake answered.
func puts(f *fake.Server) int {
	n := 0
	for _, r := range f.Requests() {
		if r.Method == "PUT" && strings.Contains(r.Path, "/journalEntry/eid:") {
			n++
		}
	}
	return n
}

// externalIDs counts the fake's journal entries per external id.
func externalIDs(f *fake.Server) map[string]int {
	out := map[string]int{}
	for _, je := range f.JournalEntries() {
		out[je.ExternalID]++
	}
	return out
}

func TestPostBatchPostsEveryEntryOnceInBatches(t *testing.T) {
	ctx := context.Background()
	e := newERPEnv(t, mappings.NetSuiteOneToOne)
	keys := e.postInvoices(t, "us", 5, func(i int) int { return i })
	e.postInvoices(t, "eu", 2, sameDay)

	var total int
	var batches []activities.PostBatchOutput
	for {
		out, err := e.erp.PostBatch(ctx, activities.PostBatchInput{Entity: "us", Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, out)
		total += out.Posted
		if !out.Remaining {
			break
		}
	}
	if len(batches) != 3 || total != 5 || batches[0].Posted != 2 || batches[2].Posted != 1 || batches[0].Periods[0] != "2026-11" {
		t.Fatalf("batches: %+v", batches)
	}
	got := externalIDs(e.fake)
	if len(got) != 5 {
		t.Fatalf("fake holds %v, want the 5 us entries only", got)
	}
	for _, k := range keys {
		if got[netsuite.ExternalID(k)] != 1 {
			t.Errorf("%s is in NetSuite %d times", k, got[netsuite.ExternalID(k)])
		}
	}
	ps, err := ledger.ERPPostings(ctx, e.deps.Pool, activities.ERPSystem, ledger.BalanceQuery{Entity: "us"})
	if err != nil || len(ps) != 5 || ps[0].InternalID == "" {
		t.Fatalf("posting records: %+v %v", ps, err)
	}

	// Already done: another run finds nothing and calls NetSuite no more.
	before := puts(e.fake)
	out, err := e.erp.PostBatch(ctx, activities.PostBatchInput{Entity: "us"})
	if err != nil || out.Posted != 0 || out.Remaining || puts(e.fake) != before {
		t.Fatalf("second run: %+v %v, puts %d -> %d", out, err, before, puts(e.fake))
	}
}

func TestPostBatchAfterCrashBetweenNetSuiteAndRecord(t *testing.T) {
	ctx := context.Background()
	e := newERPEnv(t, mappings.NetSuiteOneToOne)
	e.postInvoices(t, "us", 3, sameDay)
	// A previous attempt reached NetSuite for every entry, then died before recording anything.
	entries, err := ledger.Unposted(ctx, e.deps.Pool, activities.ERPSystem, ledger.BalanceQuery{Entity: "us"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	js, err := mappings.NetSuiteJournals(e.deps.NetSuiteMapping, entries)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range js {
		if _, err := e.ns.UpsertJournalEntry(ctx, j.ExternalID, j.Payload); err != nil {
			t.Fatal(err)
		}
	}
	out, err := e.erp.PostBatch(ctx, activities.PostBatchInput{Entity: "us"})
	if err != nil || out.Posted != 3 || out.Journals != 3 {
		t.Fatalf("retry: %+v %v", out, err)
	}
	if n := len(e.fake.JournalEntries()); n != 3 {
		t.Fatalf("fake holds %d journal entries after the retry, want 3", n)
	}
	res, err := e.erp.Reconcile(ctx, activities.ReconcileInput{Entity: "us", Period: "2026-11"})
	if err != nil || res.Status != recon.StatusGreen {
		t.Fatalf("reconcile: %+v %v", res, err)
	}
}

func TestPostBatchSurvives429Storm(t *testing.T) {
	ctx := context.Background()
	e := newERPEnv(t, mappings.NetSuiteOneToOne)
	keys := e.postInvoices(t, "us", 4, sameDay)
	e.fake.InjectFault(fake.Fault{Status: 429, Count: 60, RetryAfter: "0"}) // more than the client retries: activities fail and are retried
	var posted, failures int
	for range 20 { // the workflow's retries, done by hand
		out, err := e.erp.PostBatch(ctx, activities.PostBatchInput{Entity: "us"})
		posted += out.Posted
		if err != nil {
			var ae *temporal.ApplicationError
			if errors.As(err, &ae) && ae.NonRetryable() {
				t.Fatalf("a 429 storm must stay retryable: %v", err)
			}
			failures++
			continue
		}
		if !out.Remaining {
			break
		}
	}
	got := externalIDs(e.fake)
	if posted != 4 || len(got) != 4 || failures == 0 {
		t.Fatalf("posted %d, fake holds %v (after %d failed attempts)", posted, got, failures)
	}
	limited := 0
	for _, r := range e.fake.Requests() {
		if r.Status == 429 {
			limited++
		}
	}
	if limited != 60 {
		t.Fatalf("the fake answered %d requests with 429, want the whole storm of 60", limited)
	}
	for _, k := range keys {
		if got[netsuite.ExternalID(k)] != 1 {
			t.Errorf("%s is in NetSuite %d times", k, got[netsuite.ExternalID(k)])
		}
	}
}

func TestReconcileGreenRetryAndRed(t *testing.T) {
	ctx := context.Background()
	e := newERPEnv(t, mappings.NetSuiteOneToOne)
	keys := e.postInvoices(t, "us", 3, sameDay)
	e.postInvoices(t, "eu", 1, sameDay)
	for _, ent := range []string{"us", "eu"} {
		if _, err := e.erp.PostBatch(ctx, activities.PostBatchInput{Entity: ent}); err != nil {
			t.Fatal(err)
		}
	}
	in := activities.ReconcileInput{Entity: "us", Period: "2026-11"}
	green, err := e.erp.Reconcile(ctx, in)
	if err != nil || green.Status != recon.StatusGreen || green.Journals != 3 || green.Differences != 0 || green.Attempt != 1 ||
		green.Run != "erp-sync/us/2026-11" {
		t.Fatalf("green: %+v %v", green, err)
	}
	// Already done: the retry stores nothing new.
	again, err := e.erp.Reconcile(ctx, in)
	if err != nil || again.ResultID != green.ResultID || again.Attempt != 1 {
		t.Fatalf("retry: %+v %v (first %+v)", again, err, green)
	}

	// Someone edits a line in NetSuite: red, naming the entry and account.
	altered := netsuite.ExternalID(keys[1])
	if err := e.fake.AlterLine(altered, 0, func(l *netsuite.JournalLine) error {
		l.Debit = netsuite.NewAmount(l.Debit.Decimal.Sub(decimal.NewFromInt(10)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	red, err := e.erp.Reconcile(ctx, in)
	if err != nil || red.Status != recon.StatusBlocked || red.Attempt != 2 || red.Differences != 2 {
		t.Fatalf("red: %+v %v", red, err)
	}
	if !strings.Contains(red.Exceptions[0]+red.Exceptions[1], keys[1]) {
		t.Fatalf("exceptions do not name %s: %q", keys[1], red.Exceptions)
	}
	stored, err := recon.LatestCheck(ctx, e.deps.Pool, red.Run, recon.CheckLedgerVsERP)
	if err != nil || stored.Attempt != 2 || len(stored.Check.Differences) != 2 {
		t.Fatalf("stored: %+v %v", stored, err)
	}
	var entryDiff recon.Difference
	for _, d := range stored.Check.Differences {
		if d.Key == keys[1]+"#account 119" {
			entryDiff = d
		}
	}
	if entryDiff.Kind != recon.KindAmountMismatch || !entryDiff.Delta.Equal(decimal.NewFromInt(10)) || entryDiff.Currency != "USD" {
		t.Fatalf("entry difference: %+v in %+v", entryDiff, stored.Check.Differences)
	}
	ns, err := notice.Open(ctx, e.deps.Pool, "erp_reconciliation", 10)
	if err != nil || len(ns) != 1 || !strings.Contains(ns[0].Message, keys[1]) {
		t.Fatalf("notices: %+v %v", ns, err)
	}

	// A journal deleted in NetSuite and one keyed in by hand under revhub's prefix.
	e.fake.RemoveEntry(netsuite.ExternalID(keys[2]))
	e.fake.SeedJournalEntry(netsuite.JournalEntry{ExternalID: netsuite.ExternalID("invoice:ghost:finalized"), Subsidiary: &netsuite.Ref{ID: "1"},
		Currency: &netsuite.Ref{ID: "1"}, TranDate: "2026-11-20", Line: netsuite.JournalLines{Items: []netsuite.JournalLine{
			{Account: netsuite.Ref{ID: "119"}, Debit: netsuite.NewAmount(decimal.NewFromInt(5))},
			{Account: netsuite.Ref{ID: "250"}, Credit: netsuite.NewAmount(decimal.NewFromInt(5))}}}})
	red2, err := e.erp.Reconcile(ctx, in)
	if err != nil || red2.Attempt != 3 {
		t.Fatalf("red2: %+v %v", red2, err)
	}
	stored, err = recon.LatestCheck(ctx, e.deps.Pool, red2.Run, recon.CheckLedgerVsERP)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]recon.Kind{}
	for _, d := range stored.Check.Differences {
		kinds[d.Key] = d.Kind
	}
	if kinds[keys[2]] != recon.KindMissingRight || kinds["invoice:ghost:finalized"] != recon.KindMissingLeft {
		t.Fatalf("differences: %+v", stored.Check.Differences)
	}

	// The eu entity is unaffected: its own run is green.
	eu, err := e.erp.Reconcile(ctx, activities.ReconcileInput{Entity: "eu", Period: "2026-11"})
	if err != nil || eu.Status != recon.StatusGreen || eu.Journals != 1 {
		t.Fatalf("eu: %+v %v", eu, err)
	}
}

func TestSummarizedDayRepostedAsOneJournal(t *testing.T) {
	ctx := context.Background()
	e := newERPEnv(t, mappings.NetSuiteSummarized)
	e.postInvoices(t, "us", 2, sameDay)
	if _, err := e.erp.PostBatch(ctx, activities.PostBatchInput{Entity: "us"}); err != nil {
		t.Fatal(err)
	}
	// A third entry of the same day arrives after the first sync: the day's summary is replaced.
	inv, err := ledger.InvoiceFinalized(e.chart, ledger.Invoice{ID: "late_1", Party: ledger.Party{Entity: "us", Customer: "cus_1"},
		Date: ledger.Date(2026, 11, 3), Currency: "USD", Lines: []ledger.InvoiceLine{{Product: "platform", Amount: decimal.NewFromInt(50), Treatment: ledger.BilledInAdvance}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Post(ctx, e.deps.Pool, e.chart, inv); err != nil {
		t.Fatal(err)
	}
	out, err := e.erp.PostBatch(ctx, activities.PostBatchInput{Entity: "us"})
	if err != nil || out.Posted != 1 || out.Journals != 1 {
		t.Fatalf("second batch: %+v %v", out, err)
	}
	jes := e.fake.JournalEntries()
	if len(jes) != 1 || jes[0].ExternalID != mappings.SummaryExternalID("us", "USD", ledger.Date(2026, 11, 3)) {
		t.Fatalf("journals: %+v", jes)
	}
	if d, c := jes[0].Totals(); !d.Equal(c) || !d.Equal(decimal.RequireFromString("277.68")) {
		t.Fatalf("summary totals %s / %s, want 277.68 (101+102+50+2*12.34)", d, c)
	}
	res, err := e.erp.Reconcile(ctx, activities.ReconcileInput{Entity: "us", Period: "2026-11"})
	if err != nil || res.Status != recon.StatusGreen || res.Journals != 1 {
		t.Fatalf("reconcile: %+v %v", res, err)
	}
}

func TestERPPermanentErrors(t *testing.T) {
	ctx := context.Background()
	e := newERPEnv(t, mappings.NetSuiteOneToOne)
	nonRetryable := func(err error, typ string, mentions ...string) {
		t.Helper()
		var ae *temporal.ApplicationError
		if !errors.As(err, &ae) || !ae.NonRetryable() || ae.Type() != typ {
			t.Fatalf("want non-retryable %s, got %v", typ, err)
		}
		for _, m := range mentions {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%v does not mention %q", err, m)
			}
		}
	}
	_, err := e.erp.PostBatch(ctx, activities.PostBatchInput{FromPeriod: "2026-13", ToPeriod: "2026-01", Limit: -1})
	nonRetryable(err, activities.ErrInvalidInput, "entity", "from_period")
	_, err = e.erp.PostBatch(ctx, activities.PostBatchInput{Entity: "us", FromPeriod: "2026-11", ToPeriod: "2026-10"})
	nonRetryable(err, activities.ErrInvalidInput, "to_period")
	_, err = e.erp.Reconcile(ctx, activities.ReconcileInput{Period: "11/2026"})
	nonRetryable(err, activities.ErrInvalidInput, "entity", "period", "11/2026")
	_, err = e.erp.Reconcile(ctx, activities.ReconcileInput{Entity: "apac", Period: "2026-11"})
	nonRetryable(err, activities.ErrInvalidInput, "entity", "apac")

	// An entity the mapping does not know: the whole batch stops, naming the entry, and ops are told.
	e.postInvoices(t, "us", 1, sameDay)
	apac, err := ledger.InvoiceFinalized(e.chart, ledger.Invoice{ID: "apac_1", Party: ledger.Party{Entity: "apac"}, Date: ledger.Date(2026, 11, 4),
		Currency: "USD", Lines: []ledger.InvoiceLine{{Product: "platform", Amount: decimal.NewFromInt(7), Treatment: ledger.BilledInAdvance}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Post(ctx, e.deps.Pool, e.chart, apac); err != nil {
		t.Fatal(err)
	}
	_, err = e.erp.PostBatch(ctx, activities.PostBatchInput{Entity: "apac"})
	nonRetryable(err, activities.ErrUnmappableEntry, "invoice:apac_1:finalized", "subsidiary")
	if ns, _ := notice.Open(ctx, e.deps.Pool, "erp_unmappable_entry", 10); len(ns) != 1 {
		t.Fatalf("notices: %+v", ns)
	}

	// A journal NetSuite refuses for good (a closed period) is not retried.
	if err := e.fake.ClosePeriod("2026-11"); err != nil {
		t.Fatal(err)
	}
	_, err = e.erp.PostBatch(ctx, activities.PostBatchInput{Entity: "us"})
	nonRetryable(err, activities.ErrERPRejected, "USER_ERROR", "invoice:us_inv_1:finalized")

	unconfigured := activities.New(activities.Deps{Pool: e.deps.Pool}).ERP
	_, err = unconfigured.PostBatch(ctx, activities.PostBatchInput{Entity: "us"})
	nonRetryable(err, activities.ErrERPNotConfigured)
}
