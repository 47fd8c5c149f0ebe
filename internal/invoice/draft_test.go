package invoice

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func price(s string) *decimal.Decimal {
	d := dec(s)
	return &d
}

func date(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func sampleDraft() Draft {
	return Draft{
		Key:              CycleKey("ctr_1", date("2026-01-01"), date("2026-02-01")),
		Kind:             KindCycle,
		ContractID:       "ctr_1",
		ContractVersion:  3,
		CustomerID:       "cus_acme",
		BillingEntity:    "acme-us",
		Currency:         "usd",
		PeriodStart:      date("2026-01-01"),
		PeriodEnd:        date("2026-02-01"),
		PaymentTermsDays: 30,
		Lines: []Line{
			{ComponentID: "platform", Product: "Platform", Description: "Platform fee, January 2026", Kind: "recurring",
				PeriodStart: date("2026-01-01"), PeriodEnd: date("2026-02-01"), Quantity: dec("1"), UnitPrice: price("1000"), Amount: dec("1000.00"),
				Explanation: json.RawMessage(`{"model": "flat", "rate": "1000"}`)},
			{ComponentID: "api_calls", Product: "API calls", Description: "API calls above 10,000",
				Quantity: dec("12345"), UnitPrice: price("0.001234567891"), Amount: dec("15.24"),
				Explanation: json.RawMessage(`{"model":"tiered"}`)},
			{ComponentID: "discount", Product: "Discount", Description: "Launch discount 10% on platform",
				Quantity: dec("1"), Amount: dec("-100.00")},
		},
	}
}

func TestComputeTotals(t *testing.T) {
	tot := ComputeTotals(sampleDraft().Lines)
	if !tot.Subtotal.Equal(dec("1015.24")) || !tot.Discount.Equal(dec("100")) || !tot.Total.Equal(dec("915.24")) {
		t.Fatalf("totals = %+v", tot)
	}
	// A negative charge (a seat reduction) lowers the subtotal; credits add to the discount.
	tot = ComputeTotals([]Line{
		{Kind: "seats", Amount: dec("300")},
		{Kind: "seat_change", Quantity: dec("-2"), Amount: dec("-40.50")},
		{Kind: LineKindCredit, Amount: dec("-9.50")},
	})
	if !tot.Subtotal.Equal(dec("259.5")) || !tot.Discount.Equal(dec("9.5")) || !tot.Total.Equal(dec("250")) {
		t.Fatalf("totals = %+v", tot)
	}
	d := sampleDraft()
	d.Lines[2].Kind, d.Lines[2].Amount = LineKindCredit, dec("5")
	if err := d.Normalize().Validate(); err == nil || !strings.Contains(err.Error(), "lines[2].amount: a credit line must not be positive, got 5") {
		t.Fatalf("positive credit: %v", err)
	}
}

func TestDraftValidateOK(t *testing.T) {
	d := sampleDraft().Normalize()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Currency != "USD" || d.Lines[2].No != 3 {
		t.Fatalf("normalize: currency %s, line no %d", d.Currency, d.Lines[2].No)
	}
	if !bytes.Equal(d.Lines[0].Explanation, []byte(`{"model":"flat","rate":"1000"}`)) {
		t.Fatalf("explanation not compacted: %s", d.Lines[0].Explanation)
	}
}

func TestDraftValidateReportsAllProblems(t *testing.T) {
	d := sampleDraft()
	d.Key = ""
	d.ContractID = ""
	d.BillingEntity = "acme us!"
	d.Currency = "XXX"
	d.PeriodEnd = d.PeriodStart
	d.PaymentTermsDays = -1
	d.Lines[0].Amount = dec("1000.001")
	d.Lines[1].UnitPrice = price("0.0000000000001")
	d.Lines[1].Quantity = dec("1.0000000000001")
	d.Lines[1].Kind = "Usage"
	d.Lines[0].PeriodEnd = Date{}
	d.Lines[2].Product = ""
	d.Lines[2].Explanation = json.RawMessage(`{`)
	err := d.Normalize().Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want ValidationError, got %v", err)
	}
	want := []string{"key", "contract_id", "period_end", "billing_entity", "currency", "payment_terms_days",
		"lines[0].period_end", "lines[1].kind", "lines[1].quantity", "lines[1].unit_price", "lines[2].product", "lines[2].explanation"}
	got := map[string]bool{}
	for _, p := range ve.Problems {
		got[p.Field] = true
	}
	for _, f := range want {
		if !got[f] {
			t.Errorf("missing problem for %s in %v", f, err)
		}
	}
	// The unknown currency cannot judge rounding, so lines[0].amount is not reported for it.
	d2 := sampleDraft()
	d2.Lines[0].Amount = dec("1000.001")
	if err := d2.Normalize().Validate(); err == nil || !strings.Contains(err.Error(), "lines[0].amount: 1000.001 is not rounded to the minor unit of USD") {
		t.Fatalf("unrounded amount: got %v", err)
	}
}

func TestDraftValidateNegativeTotal(t *testing.T) {
	d := sampleDraft()
	d.Lines[2].Amount = dec("-2000")
	err := d.Normalize().Validate()
	if err == nil || !strings.Contains(err.Error(), "lines: the total -984.76 is negative") {
		t.Fatalf("got %v", err)
	}
}

func TestDraftValidateOneOffAndKind(t *testing.T) {
	d := sampleDraft()
	d.Kind = KindOneOff
	d.ContractID, d.ContractVersion = "", 0
	d.PeriodStart, d.PeriodEnd = Date{}, Date{}
	if err := d.Normalize().Validate(); err != nil {
		t.Fatalf("one-off without contract or period: %v", err)
	}
	d.PeriodStart = date("2026-01-01")
	if err := d.Normalize().Validate(); err == nil || !strings.Contains(err.Error(), "period_end: period_start and period_end must be given together") {
		t.Fatalf("half a period: %v", err)
	}
	d.Kind = "monthly"
	if err := d.Normalize().Validate(); err == nil || !strings.Contains(err.Error(), `kind: must be "cycle" or "one_off", got "monthly"`) {
		t.Fatalf("bad kind: %v", err)
	}
	d = sampleDraft()
	d.Lines = nil
	if err := d.Normalize().Validate(); err == nil || !strings.Contains(err.Error(), "lines: at least one line") {
		t.Fatalf("no lines: %v", err)
	}
}

func TestDraftHash(t *testing.T) {
	a := sampleDraft()
	b := sampleDraft()
	b.Currency = "USD"
	b.Lines[0].Amount = dec("1000") // same value, different scale
	b.Lines[0].Explanation = json.RawMessage(`{"model":"flat","rate":"1000"}`)
	ha, _ := a.hash()
	hb, _ := b.hash()
	if !bytes.Equal(ha, hb) {
		t.Fatal("equivalent drafts hash differently")
	}
	b.Lines[1].Quantity = dec("12346")
	if hb, _ = b.hash(); bytes.Equal(ha, hb) {
		t.Fatal("different quantities hash the same")
	}
	b.Lines[1].Explanation = json.RawMessage(`{`)
	if _, err := b.hash(); err == nil {
		t.Fatal("malformed explanation: want error")
	}
}

func TestDateJSON(t *testing.T) {
	var v struct{ D, E Date }
	if err := json.Unmarshal([]byte(`{"D":"2026-02-28","E":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.D.AddDays(1).String() != "2026-03-01" || !v.E.IsZero() {
		t.Fatalf("%+v", v)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"D":"2026-02-28","E":null}` {
		t.Fatal(string(b))
	}
	if err := json.Unmarshal([]byte(`{"D":"28/02/2026"}`), &v); err == nil {
		t.Fatal("bad date: want error")
	}
}
