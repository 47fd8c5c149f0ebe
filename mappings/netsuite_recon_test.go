package mappings_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/netsuite"
	"github.com/revhub/revhub/connectors/netsuite/fake"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/mappings"
)

// november builds n invoices and their payments in November 2026, plus one October entry.
func nsNovember(t testing.TB, n int) []ledger.Entry {
	t.Helper()
	ch := ledger.DefaultChart()
	var out []ledger.Entry
	for i := range n {
		party := ledger.Party{Entity: "us", Customer: "cus_1"}
		day := ledger.Date(2026, 11, 1+i%28)
		amount := decimal.New(int64(1000+i*37), -2)
		inv, err := ledger.InvoiceFinalized(ch, ledger.Invoice{ID: fmt.Sprintf("inv_%d", i), Party: party, Date: day, Currency: "USD",
			Lines: []ledger.InvoiceLine{{Product: "platform", Amount: amount, Treatment: ledger.BilledInAdvance}}})
		if err != nil {
			t.Fatal(err)
		}
		pay, err := ledger.PaymentCaptured(ch, ledger.Payment{ID: fmt.Sprintf("pay_%d", i), Provider: "paypal", Party: party, Date: day,
			Currency: "USD", Amount: amount})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, inv, pay)
	}
	return out
}

// postAll upserts every journal with bounded concurrency, as the ERP sync does.
func nsPostAll(t *testing.T, c *netsuite.Client, js []mappings.NetSuiteJournal) {
	t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, j := range js {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := c.UpsertJournalEntry(context.Background(), j.ExternalID, j.Payload); err != nil {
				t.Errorf("post %s: %v", j.ExternalID, err)
			}
		})
	}
	wg.Wait()
}

func nsReconcile(t *testing.T, c *netsuite.Client, js []mappings.NetSuiteJournal, month string) []mappings.NetSuiteDifference {
	t.Helper()
	ctx := context.Background()
	periods, err := c.AccountingPeriods(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, p := range periods {
		if p.Month == month {
			id = p.ID
		}
	}
	perEntry, err := c.EntryTotals(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	perPeriod, err := c.PeriodTotals(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var inMonth []mappings.NetSuiteJournal
	for _, j := range js {
		if strings.HasPrefix(j.Payload.TranDate, month) {
			inMonth = append(inMonth, j)
		}
	}
	return mappings.ReconcileNetSuite(inMonth, perEntry, perPeriod)
}

func TestNetSuiteSyncThroughA429StormThenReconcile(t *testing.T) {
	f := fake.New(fake.Options{})
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	c, err := netsuite.New(netsuite.Config{AccountID: fake.DefaultAccountID, BaseURL: srv.URL, Credentials: fake.DefaultCredentials,
		RetryMax: 100, RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond, PageSize: 25})
	if err != nil {
		t.Fatal(err)
	}
	js, err := mappings.NetSuiteJournals(nsConfig(t, mappings.NetSuiteOneToOne), nsNovember(t, 60))
	if err != nil {
		t.Fatal(err)
	}
	f.InjectFault(fake.Fault{Status: 429, Count: 150, RetryAfter: "0"})
	nsPostAll(t, c, js)
	if n := len(f.JournalEntries()); n != len(js) {
		t.Fatalf("%d journals in NetSuite after the storm, want %d", n, len(js))
	}
	storm := 0
	for _, r := range f.Requests() {
		if r.Status == 429 {
			storm++
		}
	}
	if storm != 150 {
		t.Fatalf("the storm answered %d requests, want 150", storm)
	}
	// A second sync run (everything already done) changes nothing.
	nsPostAll(t, c, js)
	if n := len(f.JournalEntries()); n != len(js) {
		t.Fatalf("%d journals after a repeated sync, want %d", n, len(js))
	}
	if diffs := nsReconcile(t, c, js, "2026-11"); len(diffs) != 0 {
		t.Fatalf("reconciliation red after a clean sync: %+v", diffs)
	}

	// Someone edits a line in NetSuite: red, naming the entry and the account.
	altered := netsuite.ExternalID("invoice:inv_7:finalized")
	if err := f.AlterLine(altered, 1, func(l *netsuite.JournalLine) error {
		l.Credit = netsuite.NewAmount(l.Credit.Add(decimal.RequireFromString("0.01")))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// ...someone deletes another, and someone keys in an entry with revhub's prefix.
	removed := netsuite.ExternalID("payment:pay_3:captured")
	f.RemoveEntry(removed)
	f.SeedJournalEntry(netsuite.JournalEntry{ExternalID: netsuite.ExternalID("invoice:ghost:finalized"), Subsidiary: netsuite.RefTo("1"),
		TranDate: "2026-11-20", Line: netsuite.JournalLines{Items: []netsuite.JournalLine{
			{Account: netsuite.Ref{ID: "119"}, Debit: netsuite.NewAmount(decimal.NewFromInt(5))},
			{Account: netsuite.Ref{ID: "250"}, Credit: netsuite.NewAmount(decimal.NewFromInt(5))}}}})
	diffs := nsReconcile(t, c, js, "2026-11")
	byKind := map[mappings.NetSuiteDifferenceKind][]mappings.NetSuiteDifference{}
	for _, d := range diffs {
		byKind[d.Kind] = append(byKind[d.Kind], d)
	}
	if d := byKind[mappings.NetSuiteEntryAmounts]; len(d) != 1 || d[0].ExternalID != altered || d[0].EntryKeys[0] != "invoice:inv_7:finalized" ||
		d[0].Account != "250" || !strings.Contains(d[0].Reason, "invoice:inv_7:finalized") {
		t.Errorf("altered line: %+v", d)
	}
	if d := byKind[mappings.MissingInNetSuite]; len(d) != 1 || d[0].EntryKeys[0] != "payment:pay_3:captured" {
		t.Errorf("deleted entry: %+v", d)
	}
	if d := byKind[mappings.UnexpectedInNetSuite]; len(d) != 1 || !strings.Contains(d[0].Reason, "invoice:ghost:finalized") {
		t.Errorf("unexpected entry: %+v", d)
	}
	if len(byKind[mappings.NetSuitePeriodTotals]) == 0 {
		t.Error("period totals did not notice the changes")
	}
	for _, d := range byKind[mappings.NetSuitePeriodTotals] {
		if d.Subsidiary != "1" || d.Currency != "1" {
			t.Errorf("period difference without subsidiary or currency: %+v", d)
		}
	}
}

func TestNetSuiteSummarizedSyncReconcilesAndReplacesTheDay(t *testing.T) {
	f := fake.New(fake.Options{})
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	c, err := netsuite.New(netsuite.Config{AccountID: fake.DefaultAccountID, BaseURL: srv.URL, Credentials: fake.DefaultCredentials})
	if err != nil {
		t.Fatal(err)
	}
	cfg := nsConfig(t, mappings.NetSuiteSummarized)
	entries := nsNovember(t, 40)
	first, err := mappings.NetSuiteJournals(cfg, entries[:40])
	if err != nil {
		t.Fatal(err)
	}
	nsPostAll(t, c, first)
	// Later entries of the same days: each day's summary is recomputed and replaced, never duplicated.
	all, err := mappings.NetSuiteJournals(cfg, entries)
	if err != nil {
		t.Fatal(err)
	}
	nsPostAll(t, c, all)
	if n := len(f.JournalEntries()); n != len(all) || n != 28 {
		t.Fatalf("%d summaries in NetSuite, want %d (one per day)", n, len(all))
	}
	if diffs := nsReconcile(t, c, all, "2026-11"); len(diffs) != 0 {
		t.Fatalf("summarized reconciliation red: %+v", diffs)
	}
}

func TestNetSuiteReconcileFindsDuplicates(t *testing.T) {
	js, err := mappings.NetSuiteJournals(nsConfig(t, mappings.NetSuiteOneToOne), nsNovember(t, 1)[:1])
	if err != nil {
		t.Fatal(err)
	}
	ext := js[0].ExternalID
	row := func(id, account, debit, credit string) netsuite.LineTotal {
		return netsuite.LineTotal{ExternalID: ext, InternalID: id, Subsidiary: "1", Account: account, Currency: "1",
			Debit: decimal.RequireFromString(debit), Credit: decimal.RequireFromString(credit), Lines: 1}
	}
	perEntry := []netsuite.LineTotal{row("101", "119", "10", "0"), row("101", "250", "0", "10"), row("102", "119", "10", "0"), row("102", "250", "0", "10")}
	diffs := mappings.ReconcileNetSuite(js, perEntry, nil)
	kinds := map[mappings.NetSuiteDifferenceKind]int{}
	for _, d := range diffs {
		kinds[d.Kind]++
	}
	if kinds[mappings.DuplicateInNetSuite] != 1 || !strings.Contains(diffs[0].Reason, "101, 102") {
		t.Fatalf("duplicates: %+v", diffs)
	}
	if kinds[mappings.NetSuitePeriodTotals] != 2 {
		t.Fatalf("missing period totals not reported: %+v", diffs)
	}
}
