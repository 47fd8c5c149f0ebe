package mappings_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/netsuite"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/mappings"
)

const nsConfigYAML = `
mode: one_to_one
accounts: {"1000": "110", "1100": "119", "1150": "120", "1210": "131", "1220": "132", "1230": "133", "2400": "250",
  "4000": "400", "4010": "401", "4020": "402", "4030": "403", "4080": "408", "4900": "490", "4950": "495", "6100": "610"}
subsidiaries: {us: "1", eu: "2"}
currencies: {USD: "1", EUR: "4"}
departments: {platform: "5", usage: "6", "*": "9"}
classes: {platform: "3"}
customers: {cus_1: "42"}
`

func nsConfig(t testing.TB, mode mappings.NetSuiteMode) *mappings.NetSuiteConfig {
	t.Helper()
	c, err := mappings.ParseNetSuiteConfig([]byte(nsConfigYAML))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(ledger.DefaultChart()); err != nil {
		t.Fatalf("default chart not fully mapped: %v", err)
	}
	c.Mode = mode
	return c
}

func nsDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// render shows a payload's lines as "D 119 100 ent=42 dep=5 cls=3".
func nsRender(je netsuite.JournalEntry) []string {
	id := func(r *netsuite.Ref) string {
		if r == nil {
			return "-"
		}
		return r.ID
	}
	var out []string
	for _, l := range je.Line.Items {
		side, a := "D", l.Debit
		if l.Credit != nil {
			side, a = "C", l.Credit
		}
		out = append(out, fmt.Sprintf("%s %s %s ent=%s dep=%s cls=%s", side, l.Account.ID, a.String(), id(l.Entity), id(l.Department), id(l.Class)))
	}
	return out
}

func nsSampleEntries(t *testing.T) []ledger.Entry {
	must := func(e ledger.Entry, err error) ledger.Entry {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	ch := ledger.DefaultChart()
	party := ledger.Party{Entity: "us", Customer: "cus_1", Contract: "ctr_1"}
	day := ledger.Date(2026, 11, 3)
	return []ledger.Entry{
		must(ledger.InvoiceFinalized(ch, ledger.Invoice{ID: "inv_1", Party: party, Date: day, Currency: "USD", Lines: []ledger.InvoiceLine{
			{Product: "platform", Amount: nsDec("1000"), Treatment: ledger.BilledInAdvance},
			{Product: "usage", Amount: nsDec("250.50"), Treatment: ledger.RecognizedAsBill},
		}})),
		must(ledger.PaymentCaptured(ch, ledger.Payment{ID: "pay_1", Provider: "stripe", Party: party, Date: day, Currency: "USD", Amount: nsDec("1250.50")})),
		must(ledger.ProviderFee(ch, ledger.Payment{ID: "pay_1", Provider: "stripe", Party: party, Date: day, Currency: "USD", Amount: nsDec("1250.50"), Fee: nsDec("36.57")})),
		must(ledger.InvoiceFinalized(ch, ledger.Invoice{ID: "inv_2", Party: ledger.Party{Entity: "us", Customer: "cus_2"}, Date: ledger.Date(2026, 11, 4),
			Currency: "USD", Lines: []ledger.InvoiceLine{{Product: "services", Amount: nsDec("300"), Treatment: ledger.RecognizedAsBill}}})),
	}
}

func TestNetSuiteOneToOne(t *testing.T) {
	js, err := mappings.NetSuiteJournals(nsConfig(t, mappings.NetSuiteOneToOne), nsSampleEntries(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ext, date string
		keys      []string
		lines     []string
	}{
		{"rh-invoice_-inv__1_-finalized", "2026-11-03", []string{"invoice:inv_1:finalized"}, []string{
			"D 119 1250.5 ent=42 dep=9 cls=-", "C 250 1000 ent=42 dep=5 cls=3", "C 402 250.5 ent=42 dep=6 cls=-"}},
		{"rh-payment_-pay__1_-captured", "2026-11-03", []string{"payment:pay_1:captured"}, []string{
			"D 131 1250.5 ent=42 dep=9 cls=-", "C 119 1250.5 ent=42 dep=9 cls=-"}},
		{"rh-payment_-pay__1_-fee", "2026-11-03", []string{"payment:pay_1:fee"}, []string{
			"D 610 36.57 ent=42 dep=9 cls=-", "C 131 36.57 ent=42 dep=9 cls=-"}},
		{"rh-invoice_-inv__2_-finalized", "2026-11-04", []string{"invoice:inv_2:finalized"}, []string{
			"D 119 300 ent=- dep=9 cls=-", "C 403 300 ent=- dep=9 cls=-"}},
	}
	if len(js) != len(tests) {
		t.Fatalf("%d journals, want %d", len(js), len(tests))
	}
	for i, tt := range tests {
		j := js[i]
		if j.ExternalID != tt.ext || j.Payload.ExternalID != tt.ext || j.Payload.TranDate != tt.date || !slices.Equal(j.EntryKeys, tt.keys) ||
			j.Payload.Subsidiary.ID != "1" || j.Payload.Currency.ID != "1" {
			t.Errorf("journal %d header: %+v", i, j)
		}
		if got := nsRender(j.Payload); !slices.Equal(got, tt.lines) {
			t.Errorf("journal %s lines\n got %q\nwant %q", tt.ext, got, tt.lines)
		}
		if dr, cr := j.Payload.Totals(); !dr.Equal(cr) {
			t.Errorf("journal %s unbalanced: %s vs %s", tt.ext, dr, cr)
		}
		if !strings.Contains(j.Payload.Memo, tt.keys[0]) {
			t.Errorf("memo %q does not name the ledger key", j.Payload.Memo)
		}
	}
}

func TestNetSuiteSummarized(t *testing.T) {
	entries := nsSampleEntries(t)
	js, err := mappings.NetSuiteJournals(nsConfig(t, mappings.NetSuiteSummarized), entries)
	if err != nil {
		t.Fatal(err)
	}
	if len(js) != 2 {
		t.Fatalf("%d summaries, want one per day", len(js))
	}
	day1 := js[0]
	if day1.ExternalID != mappings.SummaryExternalID("us", "USD", ledger.Date(2026, 11, 3)) || day1.ExternalID != "rh-summary_-us_-usd_-2026-11-03" ||
		!slices.Equal(day1.EntryKeys, []string{"invoice:inv_1:finalized", "payment:pay_1:captured", "payment:pay_1:fee"}) {
		t.Fatalf("summary header: %s %v", day1.ExternalID, day1.EntryKeys)
	}
	// AR nets to zero (invoiced and paid the same day) and disappears; clearing nets to 1213.93.
	want := []string{"D 131 1213.93 ent=- dep=9 cls=-", "C 250 1000 ent=- dep=5 cls=3", "C 402 250.5 ent=- dep=6 cls=-", "D 610 36.57 ent=- dep=9 cls=-"}
	if got := nsRender(day1.Payload); !slices.Equal(got, want) {
		t.Fatalf("summary lines\n got %q\nwant %q", got, want)
	}
	if dr, cr := day1.Payload.Totals(); !dr.Equal(cr) {
		t.Fatalf("summary unbalanced: %s vs %s", dr, cr)
	}
	// The same entries in another order give the same summaries (deterministic ids and lines).
	slices.Reverse(entries)
	again, _ := mappings.NetSuiteJournals(nsConfig(t, mappings.NetSuiteSummarized), entries)
	if again[0].ExternalID != day1.ExternalID || !slices.Equal(nsRender(again[0].Payload), want) {
		t.Fatal("summaries depend on entry order")
	}
	// An entry and its reversal on the same day cancel out: an empty summary that still carries both keys.
	rev, _ := ledger.Reversal(entries[0], entries[0].Date, "voided")
	empty, _ := mappings.NetSuiteJournals(nsConfig(t, mappings.NetSuiteSummarized), []ledger.Entry{entries[0], rev})
	if len(empty) != 1 || !empty[0].Empty() || len(empty[0].EntryKeys) != 2 {
		t.Fatalf("cancelling entries: %+v", empty)
	}
}

func TestNetSuiteUnmappableEntries(t *testing.T) {
	e := nsSampleEntries(t)[0]
	e.Entity = "mars"
	e.Postings[0].Account = "1999"
	multi := nsSampleEntries(t)[1]
	multi.Postings = append(multi.Postings, ledger.Posting{Account: "1210", Side: ledger.Debit, Amount: nsDec("1"), Currency: "GBP"},
		ledger.Posting{Account: "1100", Side: ledger.Credit, Amount: nsDec("1"), Currency: "GBP"})
	_, err := mappings.NetSuiteJournals(nsConfig(t, mappings.NetSuiteOneToOne), []ledger.Entry{e, multi})
	if !errors.Is(err, mappings.ErrUnmappableEntry) {
		t.Fatalf("want ErrUnmappableEntry, got %v", err)
	}
	for _, s := range []string{`entity "mars"`, `postings[0].account "1999"`, "invoice:inv_1:finalized", "payment:pay_1:captured", "2 currencies", "GBP"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not mention %s: %v", s, err)
		}
	}
}

func TestNetSuiteConfigValidation(t *testing.T) {
	_, err := mappings.ParseNetSuiteConfig([]byte("mode: weekly\naccounts: {\"1100\": \"AR\"}\n"))
	for _, s := range []string{"mode", "accounts.1100", "subsidiaries", "currencies"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("no problem named %s in %v", s, err)
		}
	}
	c := nsConfig(t, mappings.NetSuiteOneToOne)
	delete(c.Accounts, "4950")
	if err := c.Validate(ledger.DefaultChart()); err == nil || !strings.Contains(err.Error(), "accounts.4950") {
		t.Fatalf("unmapped chart account: %v", err)
	}
}
