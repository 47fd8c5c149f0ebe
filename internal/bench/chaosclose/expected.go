package chaosclose

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/devhub"
)

// Expected is a hand-computed invoice total of one original demo deal for the closed month.
type Expected struct {
	ContractID string
	Currency   string
	Total      decimal.Decimal
	Why        string
}

// ExpectedTotals are the closed month's invoice totals of the three monthly demo deals, worked out
// by hand from the fake org's fixture (connectors/salesforce/fake/fixtures/seed.json) and the demo
// usage generator (its event counts, devhub.DemoCount, and its payment amounts, internal/devhub/usage.go),
// independently of the rating engine:
//
//   - Acme (USD, card): platform 12,000.00 a year = 1,000.00 a month; 25 seats at 30.00 less 10% =
//     675.00; total 1,675.00.
//   - Globex (EUR, bank transfer): API calls (under 1,200 at 0.0015) and storage (19 GB-months at
//     0.02) stay far below the 500.00 monthly minimum commit, so the true-up brings the total to
//     exactly 500.00.
//   - Initech (USD, PayPal): platform 6,000.00 a year = 500.00 a month; emails at 0.001 each (the
//     first volume tier: fewer than 10,000); 2.9% + 0.30 of each captured payment, summed exactly,
//     each line rounded once half away from zero.
func ExpectedTotals() []Expected {
	const initech = "ctr_sf_0065g00000initcAAA"
	emails := devhub.DemoCount(initech, "emails")
	n := devhub.DemoCount(initech, "payment_volume")
	var volumeCents, feeMilliCents int64 // 2.9% of c cents = 29c/1000 cents
	for i := range n {
		c := int64(20+(i*37)%480)*100 + int64((i*13)%100)
		volumeCents += c
		feeMilliCents += 29*c + 30*1000
	}
	fees := decimal.New(feeMilliCents, -5).Round(2)
	mails := decimal.New(int64(emails), -3).Round(2)
	return []Expected{
		{ContractID: "ctr_sf_0065g00000acme1AAA", Currency: "USD", Total: decimal.RequireFromString("1675.00"),
			Why: "1,000.00 platform + 25 x 30.00 seats less 10%"},
		{ContractID: "ctr_sf_0065g00000globxAAA", Currency: "EUR", Total: decimal.RequireFromString("500.00"),
			Why: "usage below the 500.00 monthly minimum commit, trued up"},
		{ContractID: initech, Currency: "USD", Total: decimal.RequireFromString("500.00").Add(mails).Add(fees),
			Why: fmt.Sprintf("500.00 platform + %d emails x 0.001 = %s + %d payments of %s: 2.9%% + 0.30 each = %s",
				emails, mails.StringFixed(2), n, decimal.New(volumeCents, -2).StringFixed(2), fees.StringFixed(2))},
	}
}
