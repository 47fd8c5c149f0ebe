package rating

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/quick"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/money"
)

// TestPropertyTotalsEqualSumOfLines rates random hybrid contracts and usage and checks the invoice invariants.
func TestPropertyTotalsEqualSumOfLines(t *testing.T) {
	doc := `components:
  - {id: platform, product: PLATFORM, model: flat, price: {amount: "%[1]s"}}
  - {id: seats, product: SEATS, model: seats, price: {unit_price: "17.35", seats: 3}, discount: {kind: percent, percent: "12.5"}}
  - {id: api, product: API, model: graduated, meter: api_calls, free_units: 500, price: {tiers: [{from: 0, up_to: 1000, unit_price: "0.0123"}, {from: 1000, unit_price: "0.0071"}]}}
  - {id: gpt4, product: TOKENS, model: per_unit, meter: tokens, group: gpt-4, price: {unit_price: "0.000003"}}
  - {id: pay, product: PAYMENTS, model: percentage, meter: payments, price: {percent: "2.9", fixed_fee: "%[6]s", min_fee: "%[7]s"}}
  - {id: pkg, product: SMS, model: package, meter: api_calls, price: {package_size: 250, package_price: "1.99"}}
commit: {amount: "%[2]s"}
credits:
  - {id: c1, amount: "%[3]s", granted_on: 2026-01-01, expires_on: 2026-01-17}
  - {id: c2, amount: "%[4]s", every: period, rollover: true}
discounts:
  - {kind: fixed, amount: "%[5]s"}
`
	bases := map[money.Currency]contract.Version{
		"USD": version(t, "USD", fmt.Sprintf(doc, "999.99", "1500.00", "250.00", "75.55", "33.33", "0.30", "0.50")),
		"JPY": version(t, "JPY", fmt.Sprintf(doc, "99999", "150000", "25000", "7555", "3333", "30", "50")),
		"BHD": version(t, "BHD", fmt.Sprintf(doc, "99.999", "150.000", "25.005", "7.555", "3.333", "0.300", "0.500")),
	}
	f := func(seed uint64) bool {
		rng := rand.New(rand.NewPCG(seed, 7))
		var u Usage
		for i := rng.IntN(20); i > 0; i-- {
			u.Quantities = append(u.Quantities, Quantity{Meter: "api_calls", Date: contract.NewDate(2026, 1, 1+rng.IntN(31)), Value: decimal.New(rng.Int64N(1_000_000), -int32(rng.IntN(3)))})
			u.Quantities = append(u.Quantities, Quantity{Meter: "tokens", Group: "gpt-4", Date: contract.NewDate(2026, 1, 1+rng.IntN(31)), Value: decimal.NewFromInt(rng.Int64N(10_000_000))})
			u.Transactions = append(u.Transactions, Transaction{Meter: "payments", Date: contract.NewDate(2026, 1, 1+rng.IntN(31)), Amount: decimal.New(rng.Int64N(1_000_000), -2)})
			u.Seats = append(u.Seats, SeatChange{Component: "seats", Date: contract.NewDate(2026, 1, 1+rng.IntN(31)), Seats: rng.Int64N(50)})
		}
		split := rng.IntN(2) == 0
		amend := contract.NewDate(2026, 1, 2+rng.IntN(29))
		for _, cur := range []money.Currency{"USD", "JPY", "BHD"} {
			base := bases[cur]
			c := contract.Contract{ID: base.ContractID, Versions: []contract.Version{base}}
			if split {
				v2 := base
				v2.Version, v2.EffectiveFrom = 2, amend
				c.Versions = append(c.Versions, v2)
			}
			inv, err := Rate(c, jan, u)
			if err != nil {
				t.Logf("seed %d: %v", seed, err)
				return false
			}
			if !invariantsHold(inv) {
				t.Logf("seed %d %s: %s", seed, cur, amounts(inv))
				return false
			}
		}
		return true
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 300}); err != nil {
		t.Fatal(err)
	}
}

func invariantsHold(inv Invoice) bool {
	sum := decimal.Zero
	for _, l := range inv.Lines {
		if !money.IsRounded(l.Amount, inv.Currency) {
			return false
		}
		sum = sum.Add(l.Amount)
	}
	return sum.Equal(inv.Total) && inv.Subtotal.Add(inv.Discounts).Add(inv.Credits).Equal(inv.Total) && !inv.Total.IsNegative()
}

// TestPropertyChargesNeverDecrease: per-unit, graduated and package charges never fall as the quantity grows.
func TestPropertyChargesNeverDecrease(t *testing.T) {
	ts := []contract.Tier{
		{From: decimal.Zero, UpTo: ptr(dec("100")), UnitPrice: dec("0.5"), FlatFee: dec("2")},
		{From: dec("100"), UpTo: ptr(dec("1000.5")), UnitPrice: dec("0.25")},
		{From: dec("1000.5"), UnitPrice: dec("0.000000000001")},
	}
	f := func(a, b uint32, scale uint8) bool {
		lo, hi := decimal.New(int64(min(a, b)), -int32(scale%4)), decimal.New(int64(max(a, b)), -int32(scale%4))
		g1, _ := GraduatedCharge(lo, ts)
		g2, _ := GraduatedCharge(hi, ts)
		p1, p2 := PerUnitCharge(lo, dec("0.000002")), PerUnitCharge(hi, dec("0.000002"))
		k1, _ := PackageCharge(lo, dec("250"), dec("1.99"))
		k2, _ := PackageCharge(hi, dec("250"), dec("1.99"))
		return !g2.LessThan(g1) && !p2.LessThan(p1) && !k2.LessThan(k1) &&
			!money.MustRound(g2, "USD").LessThan(money.MustRound(g1, "USD"))
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 5000}); err != nil {
		t.Fatal(err)
	}
}

// TestPropertyGraduatedTiersAddUp: the tier slices of a graduated charge add back to the quantity and the amount.
func TestPropertyGraduatedTiersAddUp(t *testing.T) {
	ts := []contract.Tier{
		{From: decimal.Zero, UpTo: ptr(dec("10")), UnitPrice: dec("3")},
		{From: dec("10"), UpTo: ptr(dec("20")), UnitPrice: dec("2"), FlatFee: dec("1")},
		{From: dec("20"), UnitPrice: dec("1")},
	}
	f := func(q uint16) bool {
		qd := decimal.NewFromInt(int64(q))
		amt, used := GraduatedCharge(qd, ts)
		units, sum := decimal.Zero, decimal.Zero
		for _, u := range used {
			units, sum = units.Add(u.Units), sum.Add(u.Amount)
		}
		return units.Equal(qd) && sum.Equal(amt)
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
}

// TestPropertyProrationPartsAddBack: a recurring fee split at any amendment day, and seat stretches, add back to the whole.
func TestPropertyProrationPartsAddBack(t *testing.T) {
	f := func(cents uint32, day uint8, seats uint8) bool {
		amt := decimal.New(int64(cents), -2).String()
		v1 := version(t, "USD", fmt.Sprintf(`components:
  - {id: platform, product: PLATFORM, model: flat, price: {amount: "%s"}}
  - {id: seats, product: SEATS, model: seats, price: {unit_price: "%s", seats: %d}}
`, amt, amt, seats))
		v2 := v1
		v2.Version, v2.EffectiveFrom = 2, contract.NewDate(2026, 1, 2+int(day)%30)
		inv, err := Rate(contract.Contract{ID: v1.ContractID, Versions: []contract.Version{v1, v2}}, jan, Usage{})
		if err != nil {
			return false
		}
		whole := money.MustRound(dec(amt).Mul(decimal.NewFromInt(1+int64(seats))), "USD")
		return inv.Total.Equal(whole) && invariantsHold(inv)
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 500}); err != nil {
		t.Fatal(err)
	}
}

func ptr(d decimal.Decimal) *decimal.Decimal { return &d }
