package rating

import (
	"testing"

	"github.com/shopspring/decimal"
)

const usageOnly = `components:
  - {id: api, product: API, model: per_unit, meter: api_calls, price: {unit_price: "0.01"}}
`

func TestCreditsDrawdownOrderAndExpiry(t *testing.T) {
	cases := []struct {
		name, credits, usage string
		state                []CreditLot
		want, after, expired string
	}{
		{
			name:    "one grant covers part of the usage",
			credits: `  - {id: welcome, amount: "100.00", granted_on: 2026-01-01}`,
			usage:   "30000", want: "usage:api=300 credit:welcome=-100", after: "", expired: "",
		},
		{
			name:    "grant larger than usage carries the rest",
			credits: `  - {id: welcome, amount: "500.00", granted_on: 2026-01-01}`,
			usage:   "30000", want: "usage:api=300 credit:welcome=-300", after: "welcome=200", expired: "",
		},
		{
			name:    "credit expiring mid-period covers only its days: 300 x 15/31 = 145.16, balance 100 used",
			credits: `  - {id: promo, amount: "100.00", granted_on: 2026-01-01, expires_on: 2026-01-16}`,
			usage:   "30000", want: "usage:api=300 credit:promo=-100", after: "", expired: "",
		},
		{
			name:    "credit expiring mid-period: 300 x 10/31 = 96.77 drawn, 3.23 expires",
			credits: `  - {id: promo, amount: "100.00", granted_on: 2026-01-01, expires_on: 2026-01-11}`,
			usage:   "30000", want: "usage:api=300 credit:promo=-96.77", after: "", expired: "promo=3.23",
		},
		{
			name: "earliest expiry drawn first, then priority",
			credits: `  - {id: forever, amount: "1000.00", granted_on: 2026-01-01}
  - {id: q1, amount: "50.00", granted_on: 2026-01-01, expires_on: 2026-04-01, priority: 2}
  - {id: q1b, amount: "70.00", granted_on: 2026-01-01, expires_on: 2026-04-01, priority: 1}`,
			usage: "30000", want: "usage:api=300 credit:q1b=-70 credit:q1=-50 credit:forever=-180", after: "forever=820", expired: "",
		},
		{
			name:    "zero usage draws nothing",
			credits: `  - {id: welcome, amount: "100.00", granted_on: 2026-01-01}`,
			usage:   "0", want: "usage:api=0", after: "welcome=100", expired: "",
		},
		{
			name:    "carried balance state replaces the grant amount",
			credits: `  - {id: welcome, amount: "100.00", granted_on: 2025-12-01}`,
			state:   []CreditLot{{Lot: "welcome", Grant: "welcome", GrantedOn: date("2025-12-01"), Remaining: dec("12.34")}},
			usage:   "30000", want: "usage:api=300 credit:welcome=-12.34", after: "", expired: "",
		},
		{
			name:    "grant made after the period is not usable",
			credits: `  - {id: later, amount: "100.00", granted_on: 2026-02-01}`,
			usage:   "30000", want: "usage:api=300", after: "", expired: "",
		},
		{
			name:    "monthly allowance without rollover lapses at period end",
			credits: `  - {id: monthly, amount: "500.00", every: period}`,
			usage:   "30000", want: "usage:api=300 credit:monthly@2026-01-01=-300", after: "", expired: "monthly@2026-01-01=200",
		},
		{
			name:    "monthly allowance with rollover carries",
			credits: `  - {id: monthly, amount: "500.00", every: period, rollover: true}`,
			usage:   "30000", want: "usage:api=300 credit:monthly@2026-01-01=-300", after: "monthly@2026-01-01=200", expired: "",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := version(t, "USD", usageOnly+"credits:\n"+c.credits+"\n")
			inv := rate(t, v, jan, Usage{Quantities: []Quantity{qty("api_calls", c.usage)}, Credits: c.state})
			if got := amounts(inv); got != c.want {
				t.Fatalf("lines %s, want %s", got, c.want)
			}
			if got := lots(inv.CreditsAfter); got != c.after {
				t.Errorf("after %q, want %q", got, c.after)
			}
			if got := lots(inv.CreditsExpired); got != c.expired {
				t.Errorf("expired %q, want %q", got, c.expired)
			}
		})
	}
}

func lots(ls []CreditLot) string {
	s := ""
	for i, l := range ls {
		if i > 0 {
			s += " "
		}
		s += l.Lot + "=" + l.Remaining.String()
	}
	return s
}

// TestCreditRolloverAcrossPeriods carries the balance state from one invoice to the next.
func TestCreditRolloverAcrossPeriods(t *testing.T) {
	v := version(t, "USD", usageOnly+`credits:
  - {id: monthly, amount: "100.00", every: period, rollover: true, expires_on: 2026-03-01}
`)
	feb := Period{date("2026-02-01"), date("2026-03-01")}
	inv := rate(t, v, jan, Usage{Quantities: []Quantity{qty("api_calls", "4000")}, Credits: []CreditLot{}})
	if got := lots(inv.CreditsAfter); got != "monthly@2026-01-01=60" {
		t.Fatalf("after january %q", got)
	}
	inv = rate(t, v, feb, Usage{Quantities: []Quantity{qty("api_calls", "20000")}, Credits: inv.CreditsAfter})
	// February: 200 of usage; January's 60 (expiring 2026-03-01) and February's 100 (same expiry, granted later).
	if got := amounts(inv); got != "usage:api=200 credit:monthly@2026-01-01=-60 credit:monthly@2026-02-01=-100" {
		t.Fatalf("february %s", got)
	}
	if !inv.Total.Equal(decimal.NewFromInt(40)) {
		t.Fatalf("february total %s", inv.Total)
	}
}
