package invoice

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/rating"
)

const ratedContract = `
contract_id: ctr_acme
version: 2
status: active
customer:
  external_id: cus_acme
  name: Acme Corp
currency: USD
billing_entity: revhub-us
payment_provider: bank
start: 2026-01-01
end: 2027-01-01
billing:
  cadence: monthly
  timing: in_arrears
meters:
  - id: api_calls
    unit: call
components:
  - id: platform
    product: PLATFORM
    model: flat
    price:
      amount: "1000.00"
  - id: api
    product: API
    model: graduated
    meter: api_calls
    free_units: 1000
    price:
      tiers:
        - {from: 0, up_to: 100000, unit_price: "0.002"}
        - {from: 100000, unit_price: "0.001"}
discounts:
  - kind: percent
    percent: "10"
`

func ratedJanuary(t *testing.T) (rating.Invoice, contract.Version) {
	t.Helper()
	v, err := contract.ParseVersion([]byte(ratedContract), contract.YAML)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Validate(); err != nil {
		t.Fatal(err)
	}
	p := rating.Period{Start: contract.MustDate("2026-01-01"), End: contract.MustDate("2026-02-01")}
	rated, err := rating.RateVersion(v, p, rating.Usage{Quantities: []rating.Quantity{{Meter: "api_calls", Value: dec("150001")}}})
	if err != nil {
		t.Fatal(err)
	}
	return rated, v
}

func TestLinesFromRating(t *testing.T) {
	rated, v := ratedJanuary(t)
	d, err := DraftFromRating(rated, v, 30)
	if err != nil {
		t.Fatal(err)
	}
	if d.Key != "invoice:ctr_acme:2026-01-01..2026-02-01" || d.Kind != KindCycle || d.ContractVersion != 2 ||
		d.BillingEntity != "revhub-us" || d.CustomerID != "cus_acme" || d.Currency != "USD" || len(d.Lines) != len(rated.Lines) {
		t.Fatalf("draft = %+v", d)
	}
	if tot := ComputeTotals(d.Lines); !tot.Total.Equal(rated.Total) || !tot.Discount.Equal(rated.Discounts.Neg().Sub(rated.Credits)) {
		t.Fatalf("totals %+v, rated total %s discounts %s credits %s", tot, rated.Total, rated.Discounts, rated.Credits)
	}
	var usage *Line
	for i, l := range d.Lines {
		rl := rated.Lines[i]
		if l.No != i+1 || l.Kind != string(rl.Kind) || !l.Amount.Equal(rl.Amount) || !l.Quantity.Equal(rl.Quantity) ||
			l.Description != rl.Description || l.PeriodStart.String() != rl.Period.Start.String() {
			t.Errorf("line %d = %+v, rated %+v", i, l, rl)
		}
		if l.Kind == "usage" {
			usage = &d.Lines[i]
		}
	}
	if usage == nil {
		t.Fatal("no usage line")
	}
	var ex map[string]any
	if err := json.Unmarshal(usage.Explanation, &ex); err != nil {
		t.Fatal(err)
	}
	tiers, _ := ex["tiers"].([]any)
	if ex["contract_version"] != float64(2) || ex["component"] != "api" || ex["model"] != "graduated" || len(tiers) != 2 ||
		!strings.Contains(ex["rounding"].(string), "half-away-from-zero") || ex["line_key"] == "" {
		t.Fatalf("explanation = %s", usage.Explanation)
	}
	other := v
	other.ContractID = "ctr_other"
	if _, err := DraftFromRating(rated, other, 30); err == nil {
		t.Fatal("version of another contract: want error")
	}
}

func TestRatedInvoiceStoredAndFinalized(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t).Pool
	rated, v := ratedJanuary(t)
	d, err := DraftFromRating(rated, v, 30)
	if err != nil {
		t.Fatal(err)
	}
	inv := mustFinalize(t, pool, mustDraft(t, pool, d).ID)
	if !inv.Total.Equal(rated.Total) || inv.Number != "INV-REVHUBUS-000001" || len(inv.Lines) != len(rated.Lines) {
		t.Fatalf("invoice = %+v", inv)
	}
	// The rendered invoice explains the rated lines in words.
	var html, pdf bytes.Buffer
	if err := RenderHTML(&html, Document{Invoice: inv, Seller: Party{Name: "Revhub US"}, Buyer: Party{Name: "Acme Corp"}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Per contract version 2, clause", "graduated pricing", "Tier 2 (100000 and above): ",
		"Metered 150001, of which 1000 free.", "Rounded half-away-from-zero to 2 decimal places (USD)"} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("rendered rated invoice lacks %q", want)
		}
	}
	if err := RenderPDF(&pdf, Document{Invoice: inv}); err != nil {
		t.Fatal(err)
	}
	checkPDFStructure(t, pdf.Bytes())
	if !strings.Contains(pdfText(t, pdf.Bytes()), "Invoice INV-REVHUBUS-000001") {
		t.Error("PDF lacks the invoice number")
	}
	// Re-rating the same period yields the same draft: the retry returns the finalized invoice.
	again, err := DraftFromRating(rated, v, 30)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := CreateDraft(ctx, pool, again); err != nil || got.ID != inv.ID {
		t.Fatalf("re-rated: %v %s", err, got.ID)
	}
}
