package mappings

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/bank"
)

func TestBankStatementLine(t *testing.T) {
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		remittance string
		wantRef    string
	}{
		{"RF18 5390 0754 7034", "RF18539007547034"},
		{"Invoice rf18539007547034 ACME", "RF18539007547034"},
		{"RF19 5390 0754 7034", ""}, // bad check digits
		{"INV-2026-1", ""},
	}
	for _, c := range cases {
		l := bank.Line{Row: 2, Account: "DE89", TransactionID: "TX-1", BookedOn: day, Amount: decimal.RequireFromString("10.00"),
			Currency: "EUR", Reference: c.remittance, Counterparty: "ACME"}
		got := BankStatementLine(l)
		if got.Reference != c.wantRef || got.RemittanceText != c.remittance || got.Account != "DE89" || got.TransactionID != "TX-1" ||
			!got.BookedOn.Equal(day) || !got.Amount.Equal(decimal.RequireFromString("10")) || got.Currency != "EUR" || got.Counterparty != "ACME" ||
			got.Key() != "bank:DE89:TX-1" {
			t.Errorf("%q: %+v", c.remittance, got)
		}
	}
}
