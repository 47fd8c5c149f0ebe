package ledger_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/revhub/revhub/internal/ledger"
)

// lines renders postings as "D 1100 100 platform" for compact comparison.
func lines(e ledger.Entry) []string {
	var out []string
	for _, p := range e.Postings {
		side := "D"
		if p.Side == ledger.Credit {
			side = "C"
		}
		out = append(out, fmt.Sprintf("%s %s %s %s %s", side, p.Account, p.Amount, p.Currency, p.Product))
	}
	return out
}

func TestEventBuilders(t *testing.T) {
	ch := ledger.DefaultChart()
	party := ledger.Party{Entity: "us", Customer: "cus_1", Contract: "ctr_1"}
	day := ledger.Date(2026, 11, 30)
	tests := []struct {
		name  string
		build func() (ledger.Entry, error)
		key   string
		want  []string
	}{
		{"invoice with advance fee, recognized usage and a discount", func() (ledger.Entry, error) {
			return ledger.InvoiceFinalized(ch, ledger.Invoice{ID: "inv_1", Party: party, Date: day, Currency: "USD", Lines: []ledger.InvoiceLine{
				{Product: "platform", Amount: dec("1000.00"), Treatment: ledger.BilledInAdvance},
				{Product: "usage", Amount: dec("250.50"), Treatment: ledger.UsageRecognized},
				{Product: "services", Amount: dec("300"), Treatment: ledger.RecognizedAsBill},
				{Product: "platform", Amount: dec("-100.00"), Treatment: ledger.BilledInAdvance},
			}})
		}, "invoice:inv_1:finalized", []string{
			"D 1100 1450.5 USD ", "C 2400 1000 USD platform", "C 1150 250.5 USD usage", "C 4030 300 USD services", "D 2400 100 USD platform",
		}},
		{"payment captured by stripe", func() (ledger.Entry, error) {
			return ledger.PaymentCaptured(ch, ledger.Payment{ID: "pay_1", Provider: "stripe", Party: party, Date: day, Currency: "EUR", Amount: dec("99.99")})
		}, "payment:pay_1:captured", []string{"D 1210 99.99 EUR ", "C 1100 99.99 EUR "}},
		{"provider fee", func() (ledger.Entry, error) {
			return ledger.ProviderFee(ch, ledger.Payment{ID: "pay_1", Provider: "paypal", Party: party, Date: day, Currency: "USD", Amount: dec("100"), Fee: dec("3.20")})
		}, "payment:pay_1:fee", []string{"D 6100 3.2 USD ", "C 1220 3.2 USD "}},
		{"payout settled", func() (ledger.Entry, error) {
			return ledger.PayoutSettled(ch, ledger.Payout{ID: "po_1", Provider: "stripe", Entity: "us", Date: day, Currency: "USD", Amount: dec("500")})
		}, "payout:po_1:settled", []string{"D 1000 500 USD ", "C 1210 500 USD "}},
		{"deferred revenue recognized", func() (ledger.Entry, error) {
			return ledger.RevenueRecognized(ch, ledger.Recognition{Obligation: "obl_1", Month: "2026-02", Party: party, Product: "platform",
				Currency: "USD", Amount: dec("8000"), From: ledger.FromDeferred})
		}, "revrec:obl_1:2026-02", []string{"D 2400 8000 USD platform", "C 4010 8000 USD platform"}},
		{"usage recognized before invoicing", func() (ledger.Entry, error) {
			return ledger.RevenueRecognized(ch, ledger.Recognition{Obligation: "obl_2", Month: "2026-11", Party: party, Product: "usage",
				Currency: "JPY", Amount: dec("12000"), From: ledger.FromUnbilled})
		}, "revrec:obl_2:2026-11", []string{"D 1150 12000 JPY usage", "C 4020 12000 JPY usage"}},
		{"credit note against recognized and deferred revenue", func() (ledger.Entry, error) {
			return ledger.CreditNoteIssued(ch, ledger.CreditNote{ID: "cn_1", InvoiceID: "inv_1", Party: party, Date: day, Currency: "USD", Lines: []ledger.CreditNoteLine{
				{Product: "usage", Amount: dec("50"), Against: ledger.AgainstRevenue},
				{Product: "platform", Amount: dec("200"), Against: ledger.AgainstDeferred},
			}})
		}, "credit_note:cn_1:issued", []string{"D 4900 50 USD usage", "D 2400 200 USD platform", "C 1100 250 USD "}},
		{"prepaid credits purchased", func() (ledger.Entry, error) {
			return ledger.PrepaidCreditsPurchased(ch, ledger.CreditGrant{GrantID: "g_1", Party: party, Date: day, Currency: "USD", Amount: dec("1000")})
		}, "credits:g_1:purchased", []string{"D 1100 1000 USD ", "C 2400 1000 USD "}},
		{"prepaid credits consumed", func() (ledger.Entry, error) {
			return ledger.PrepaidCreditsConsumed(ch, ledger.CreditGrant{GrantID: "g_1", Party: party, Product: "usage", Date: day, Currency: "USD", Amount: dec("120")})
		}, "credits:g_1:consumed:2026-11", []string{"D 2400 120 USD usage", "C 4020 120 USD usage"}},
		{"prepaid credits expired", func() (ledger.Entry, error) {
			return ledger.PrepaidCreditsExpired(ch, ledger.CreditGrant{GrantID: "g_1", Party: party, Date: day, Currency: "USD", Amount: dec("880")})
		}, "credits:g_1:expired", []string{"D 2400 880 USD ", "C 4950 880 USD "}},
		{"commit shortfall", func() (ledger.Entry, error) {
			return ledger.CommitShortfall(ch, ledger.Shortfall{Period: "2026", Party: party, Date: day, Currency: "USD", Amount: dec("4200")})
		}, "commit:ctr_1:2026:shortfall", []string{"D 1100 4200 USD ", "C 4080 4200 USD "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := tt.build()
			if err != nil {
				t.Fatal(err)
			}
			if e.Key != tt.key {
				t.Errorf("key %q, want %q", e.Key, tt.key)
			}
			if got := lines(e); !slices.Equal(got, tt.want) {
				t.Errorf("postings\n got %q\nwant %q", got, tt.want)
			}
			if err := e.Validate(ch); err != nil {
				t.Errorf("built entry invalid: %v", err)
			}
			again, _ := tt.build()
			if string(again.ContentHash()) != string(e.ContentHash()) {
				t.Error("building the same event twice gives different content")
			}
		})
	}
}

func TestEventBuilderRefusals(t *testing.T) {
	ch := ledger.DefaultChart()
	tests := []struct {
		name   string
		build  func() (ledger.Entry, error)
		fields []string
	}{
		{"invoice with every problem", func() (ledger.Entry, error) {
			return ledger.InvoiceFinalized(ch, ledger.Invoice{ID: "a:b", Currency: "usd", Lines: []ledger.InvoiceLine{
				{Product: "x", Amount: dec("1"), Treatment: "later"},
			}})
		}, []string{"id", "entity", "date", "currency", "lines[0].treatment"}},
		{"negative invoice", func() (ledger.Entry, error) {
			return ledger.InvoiceFinalized(ch, ledger.Invoice{ID: "i", Party: ledger.Party{Entity: "us"}, Date: ledger.Date(2026, 1, 1), Currency: "USD",
				Lines: []ledger.InvoiceLine{{Amount: dec("-1"), Treatment: ledger.RecognizedAsBill}}})
		}, []string{"lines"}},
		{"payment via an unknown provider with sub-cent amount", func() (ledger.Entry, error) {
			return ledger.PaymentCaptured(ch, ledger.Payment{ID: "p", Provider: "venmo", Party: ledger.Party{Entity: "us"}, Date: ledger.Date(2026, 1, 1),
				Currency: "USD", Amount: dec("1.001")})
		}, []string{"amount", "provider"}},
		{"recognition with a bad month and source", func() (ledger.Entry, error) {
			return ledger.RevenueRecognized(ch, ledger.Recognition{Obligation: "o", Month: "2026-13", Party: ledger.Party{Entity: "us"},
				Currency: "USD", Amount: dec("1"), From: "thin_air"})
		}, []string{"month", "from"}},
		{"shortfall without contract", func() (ledger.Entry, error) {
			return ledger.CommitShortfall(ch, ledger.Shortfall{Period: "2026", Party: ledger.Party{Entity: "us"}, Date: ledger.Date(2026, 1, 1), Currency: "USD", Amount: dec("0")})
		}, []string{"contract", "amount"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.build()
			var inv *ledger.InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("want *InvalidError, got %v", err)
			}
			var got []string
			for _, p := range inv.Problems {
				got = append(got, p.Field)
			}
			for _, f := range tt.fields {
				if !slices.Contains(got, f) {
					t.Errorf("no problem for %s; got %v", f, inv)
				}
			}
		})
	}
	_, err := ledger.InvoiceFinalized(ch, ledger.Invoice{ID: "zero", Party: ledger.Party{Entity: "us"}, Date: ledger.Date(2026, 1, 1), Currency: "USD",
		Lines: []ledger.InvoiceLine{{Amount: dec("0"), Treatment: ledger.RecognizedAsBill}}})
	if !errors.Is(err, ledger.ErrNothingToPost) {
		t.Fatalf("zero invoice: want ErrNothingToPost, got %v", err)
	}
}

func TestChartValidation(t *testing.T) {
	_, err := ledger.ParseChart([]byte(`
accounts:
  - {code: "1100", name: AR, type: asset}
  - {code: "1100", name: Dup, type: asset}
  - {code: "bad code", name: "", type: income}
roles:
  accounts_receivable: "1100"
  mystery: "1100"
revenue_by_product: {platform: "1100"}
cash_clearing: {stripe: "9999"}
`))
	var inv *ledger.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("want *InvalidError, got %v", err)
	}
	var got []string
	for _, p := range inv.Problems {
		got = append(got, p.Field)
	}
	for _, f := range []string{"accounts[1].code", "accounts[2].code", "accounts[2].name", "accounts[2].type", "roles.bank", "roles.mystery",
		"revenue_by_product.platform", "cash_clearing.stripe"} {
		if !slices.Contains(got, f) {
			t.Errorf("no problem for %s; got %v", f, got)
		}
	}
	ch := ledger.DefaultChart()
	if ch.RevenueAccount("platform") != "4010" || ch.RevenueAccount("unknown") != "4000" {
		t.Fatal("revenue account lookup")
	}
}
