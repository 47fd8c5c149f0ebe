package revrec

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// exampleLines returns the lines of all worked examples of docs/revenue-recognition.md together.
func exampleLines(t *testing.T) ([]Line, map[string]docExample) {
	t.Helper()
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	exs := docExamples(t, doc)
	var lines []Line
	for _, n := range []string{"annual-platform", "bundle-discount", "usage-minimum", "prepaid-credits", "upsell-amendment", "setup-fee"} {
		lines = append(lines, exs[n].sched.Lines...)
	}
	return lines, exs
}

// TestJournalKeepsAccountsEqualToSchedule posts the suggested entries month by month and checks that
// 2400 and 1150 equal the schedule's deferred revenue and unbilled receivable at every month end.
func TestJournalKeepsAccountsEqualToSchedule(t *testing.T) {
	lines, _ := exampleLines(t)
	entries, err := Journal(lines, DefaultAccounts())
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ arr, month string }
	balance := map[string]map[string]decimal.Decimal{} // arrangement -> account -> debit balance
	byMonth := map[key][]JournalEntry{}
	keys := map[string]bool{}
	for _, e := range entries {
		if !e.Balanced() {
			t.Fatalf("%s does not balance", e.Key)
		}
		if keys[e.Key] {
			t.Fatalf("duplicate key %s", e.Key)
		}
		keys[e.Key] = true
		byMonth[key{e.ArrangementID, e.Month.String()}] = append(byMonth[key{e.ArrangementID, e.Month.String()}], e)
	}
	revenue, billed := decimal.Zero, decimal.Zero
	for _, b := range Balances(lines) {
		if balance[b.ArrangementID] == nil {
			balance[b.ArrangementID] = map[string]decimal.Decimal{}
		}
		acc := balance[b.ArrangementID]
		for _, e := range byMonth[key{b.ArrangementID, b.Month.String()}] {
			for _, l := range e.Lines {
				if l.Side == Debit {
					acc[l.Account] = acc[l.Account].Add(l.Amount)
				} else {
					acc[l.Account] = acc[l.Account].Sub(l.Amount)
				}
			}
		}
		if !acc["2400"].Neg().Equal(b.Deferred) || !acc["1150"].Equal(b.Unbilled) {
			t.Fatalf("%s %s: 2400 credit %s, 1150 debit %s; schedule deferred %s, unbilled %s",
				b.ArrangementID, b.Month, acc["2400"].Neg(), acc["1150"], b.Deferred, b.Unbilled)
		}
		revenue, billed = revenue.Add(b.Recognized()), billed.Add(b.Billed)
	}
	ar, income := decimal.Zero, decimal.Zero
	for _, acc := range balance {
		ar = ar.Add(acc["1100"])
		for a, v := range acc {
			if strings.HasPrefix(a, "4") {
				income = income.Sub(v)
			}
		}
	}
	if !ar.Equal(billed) || !income.Equal(revenue) {
		t.Fatalf("AR %s vs billed %s; income %s vs recognized %s", ar, billed, income, revenue)
	}
}

func TestJournalNegativeAmountsFlipSides(t *testing.T) {
	lines := []Line{{ArrangementID: "a", EntityID: "us", Currency: "USD", Month: MustMonth("2026-01"), Kind: KindPlatform,
		Billed: d("-100.00"), Revenue: d("-40.00")}}
	entries, err := Journal(lines, DefaultAccounts())
	if err != nil {
		t.Fatal(err)
	}
	// Credit note of 100: AR credited, unbilled receivable debited; revenue reversal of 40 debits 4010
	// and credits 1150, leaving a contract asset of 60 (billed -100, recognized -40).
	want := map[string]string{"billing": "1100 credit 100|1150 debit 100", "recognition": "1150 credit 40|4010 debit 40"}
	for _, e := range entries {
		var got []string
		for _, l := range e.Lines {
			got = append(got, l.Account+" "+string(l.Side)+" "+l.Amount.String())
		}
		if strings.Join(got, "|") != want[string(e.Kind)] {
			t.Errorf("%s: %v", e.Kind, got)
		}
	}
	if len(entries) != 2 {
		t.Fatalf("entries = %d", len(entries))
	}
}

func TestRollForward(t *testing.T) {
	lines, _ := exampleLines(t)
	rows := RollForward(lines, MustMonth("2026-01"), MustMonth("2027-02"))
	prev := map[string]RollForwardRow{}
	for _, r := range rows {
		if err := r.Check(); err != nil {
			t.Fatal(err)
		}
		k := r.EntityID + string(r.Currency)
		if p, ok := prev[k]; ok && (!p.ClosingDeferred.Equal(r.OpeningDeferred) || !p.ClosingUnbilled.Equal(r.OpeningUnbilled)) {
			t.Fatalf("%s %s opening %s/%s, previous closing %s/%s", k, r.Month, r.OpeningDeferred, r.OpeningUnbilled, p.ClosingDeferred, p.ClosingUnbilled)
		}
		prev[k] = r
	}
	find := func(entity, month string) RollForwardRow {
		for _, r := range rows {
			if r.EntityID == entity && r.Month.String() == month {
				return r
			}
		}
		t.Fatalf("no row %s %s", entity, month)
		return RollForwardRow{}
	}
	// January, entity us: invoices of examples 1, 2, 5, 6 (12,000 + 13,500 + 12,000 + 13,200); usage of
	// example 3 is unbilled (1,250) and must not offset the other contracts' deferred revenue.
	jan := find("us", "2026-01")
	if !jan.Billings.Equal(d("50700")) || !jan.ClosingUnbilled.Equal(d("1250")) || !jan.OpeningDeferred.IsZero() {
		t.Fatalf("January us = %+v", jan)
	}
	// Example 3 closes in April 2026 at zero; everything ends at zero by December.
	if dec := find("us", "2026-12"); !dec.ClosingDeferred.IsZero() || !dec.ClosingUnbilled.IsZero() {
		t.Fatalf("December us = %+v", dec)
	}
	if jun := find("eu", "2026-06"); !jun.Revenue.Equal(d("500")) || !jun.Breakage.Equal(d("1000")) || !jun.ClosingDeferred.IsZero() {
		t.Fatalf("June eu = %+v", jun)
	}
	// A balance left at an arrangement's last month carries forward unchanged.
	undelivered := arrangement(Obligation{ID: "t", Product: "onboarding", Kind: KindServices, Price: d("3000.00")})
	undelivered.Billings = []Billing{{ID: "i", ObligationID: "t", Date: day("2026-02-01"), Amount: d("3000.00")}}
	s, err := Compute(undelivered, DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	carried := RollForward(s.Lines, MustMonth("2026-01"), MustMonth("2026-04"))
	if len(carried) != 3 || carried[0].Month.String() != "2026-02" || !carried[2].OpeningDeferred.Equal(d("3000")) ||
		!carried[2].ClosingDeferred.Equal(d("3000")) || !carried[2].Billings.IsZero() {
		t.Fatalf("carried = %+v", carried)
	}
}

func TestRecognizedBy(t *testing.T) {
	lines, _ := exampleLines(t)
	get := func(dim Dimension, key, month string) RecognizedRow {
		rows, err := RecognizedBy(lines, dim, MustMonth("2026-01"), MustMonth("2026-12"))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Key == key && r.Month.String() == month {
				return r
			}
		}
		return RecognizedRow{}
	}
	// Platform in January: 1,019.18 (ex 1) + 917.26 (ex 2) + 1,019.18 (ex 5) + 1,019.18 (ex 6).
	if r := get(ByProduct, "platform", "2026-01"); !r.Revenue.Equal(d("3974.80")) {
		t.Errorf("platform January = %s", r.Revenue)
	}
	// Customer acme (examples 1 and 5) in July: 1,019.18 + 917.68 + 910.20.
	if r := get(ByCustomer, "acme", "2026-07"); !r.Total().Equal(d("2847.06")) {
		t.Errorf("acme July = %s", r.Total())
	}
	if r := get(ByEntity, "eu", "2026-06"); !r.Revenue.Equal(d("500")) || !r.Breakage.Equal(d("1000")) {
		t.Errorf("eu June = %+v", r)
	}
	if _, err := RecognizedBy(lines, "region", MustMonth("2026-01"), MustMonth("2026-12")); err == nil {
		t.Error("unknown dimension: want error")
	}
}

func TestCSVWriters(t *testing.T) {
	_, exs := exampleLines(t)
	lines := exs["usage-minimum"].sched.Lines
	var b bytes.Buffer
	months, rows := Waterfall(lines, MustMonth("2026-01"), MustMonth("2026-04"))
	if err := WriteWaterfallCSV(&b, months, rows); err != nil {
		t.Fatal(err)
	}
	want := "customer_id,entity_id,arrangement_id,obligation_id,product,currency,2026-01,2026-02,2026-03,2026-04,total\n" +
		"initech,us,ex3,api,api_calls,USD,1250.00,1000.00,1000.00,0.00,3250.00\n"
	if b.String() != want {
		t.Errorf("waterfall csv:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := WriteRollForwardCSV(&b, RollForward(lines, MustMonth("2026-02"), MustMonth("2026-02"))); err != nil {
		t.Fatal(err)
	}
	want = "entity_id,currency,month,opening_deferred,opening_unbilled,billings,revenue,breakage,closing_deferred,closing_unbilled\n" +
		"us,USD,2026-02,0.00,1250.00,1250.00,640.00,360.00,0.00,1000.00\n"
	if b.String() != want {
		t.Errorf("roll-forward csv:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	rec, _ := RecognizedBy(lines, ByProduct, MustMonth("2026-02"), MustMonth("2026-02"))
	if err := WriteRecognizedCSV(&b, ByProduct, rec); err != nil {
		t.Fatal(err)
	}
	if want := "product,currency,month,revenue,breakage,total\napi_calls,USD,2026-02,640.00,360.00,1000.00\n"; b.String() != want {
		t.Errorf("recognized csv:\n%s", b.String())
	}
	b.Reset()
	if err := WriteScheduleCSV(&b, lines[:1]); err != nil {
		t.Fatal(err)
	}
	if want := "month,customer_id,entity_id,arrangement_id,obligation_id,product,kind,currency,revenue,catch_up,breakage,billed,deferred,unbilled\n" +
		"2026-01,initech,us,ex3,api,api_calls,usage,USD,1250.00,0.00,0.00,0.00,0.00,1250.00\n"; b.String() != want {
		t.Errorf("schedule csv:\n%s", b.String())
	}
	b.Reset()
	entries, _ := Journal(lines, DefaultAccounts())
	if err := WriteJournalCSV(&b, entries[:1]); err != nil {
		t.Fatal(err)
	}
	if want := "key,date,entity_id,kind,currency,account,debit,credit\n" +
		"revrec:ex3:2026-01:recognition,2026-01-31,us,recognition,USD,1150,1250.00,\n" +
		"revrec:ex3:2026-01:recognition,2026-01-31,us,recognition,USD,4030,,1250.00\n"; b.String() != want {
		t.Errorf("journal csv:\n%s", b.String())
	}
}
