package rating

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func date(s string) contract.Date { return contract.MustDate(s) }

// version builds a monthly in-arrears version starting 2026-01-01 from YAML lines for meters and components.
func version(t testing.TB, currency, body string) contract.Version {
	t.Helper()
	doc := `contract_id: ctr_test
version: 1
status: active
customer: {external_id: cus_test}
currency: ` + currency + `
billing_entity: revhub-us
payment_provider: stripe
start: 2026-01-01
billing: {cadence: monthly, timing: in_arrears}
meters:
  - {id: api_calls}
  - {id: tokens, group_by: model}
  - {id: payments}
` + body
	v, err := contract.ParseVersion([]byte(doc), contract.YAML)
	if err != nil {
		t.Fatalf("contract: %v\n%s", err, doc)
	}
	return v
}

var jan = Period{date("2026-01-01"), date("2026-02-01")}

func qty(meter, v string) Quantity { return Quantity{Meter: meter, Value: dec(v)} }

func rate(t testing.TB, v contract.Version, p Period, u Usage) Invoice {
	t.Helper()
	inv, err := RateVersion(v, p, u)
	if err != nil {
		t.Fatalf("rate: %v", err)
	}
	checkInvoice(t, inv)
	return inv
}

// checkInvoice asserts the invariants every invoice keeps: rounded lines, total = sum of lines, unique keys.
func checkInvoice(t testing.TB, inv Invoice) {
	t.Helper()
	sum := decimal.Zero
	keys := map[string]bool{}
	for _, l := range inv.Lines {
		if !l.Amount.Equal(l.Amount.Round(places(inv))) {
			t.Errorf("line %s: amount %s is not rounded to the minor unit", l.Key, l.Amount)
		}
		if keys[l.Key] {
			t.Errorf("duplicate line key %s", l.Key)
		}
		keys[l.Key] = true
		sum = sum.Add(l.Amount)
	}
	if !sum.Equal(inv.Total) || !inv.Subtotal.Add(inv.Discounts).Add(inv.Credits).Equal(inv.Total) {
		t.Errorf("total %s, sum of lines %s, subtotal+discounts+credits %s", inv.Total, sum, inv.Subtotal.Add(inv.Discounts).Add(inv.Credits))
	}
}

func places(inv Invoice) int32 {
	n, _ := inv.Currency.MinorUnits()
	return n
}

func amounts(inv Invoice) string {
	parts := make([]string, len(inv.Lines))
	for i, l := range inv.Lines {
		name := l.Component
		if name == "" {
			name = l.Key[strings.LastIndex(l.Key, ":")+1:]
		}
		parts[i] = string(l.Kind) + ":" + name + "=" + l.Amount.String()
	}
	return strings.Join(parts, " ")
}

const tiers = `
      tiers:
        - {from: 0, up_to: 1000, unit_price: "0.01"}
        - {from: 1000, up_to: 5000, unit_price: "0.008"}
        - {from: 5000, unit_price: "0.005"}`

// TestUsageModels covers the worked examples of docs/contracts.md for each usage price model.
func TestUsageModels(t *testing.T) {
	cases := []struct {
		name, currency, model, price, quantity, want, formula string
	}{
		{"per unit", "USD", "per_unit", `unit_price: "0.002"`, "12345", "24.69", "12345 x 0.002"},
		{"per unit zero usage", "USD", "per_unit", `unit_price: "0.002"`, "0", "0", "0 x 0.002"},
		{"per unit token fractions of a cent", "USD", "per_unit", `unit_price: "0.000002"`, "1234567", "2.47", "1234567 x 0.000002"},
		{"graduated inside tier 1", "USD", "graduated", tiers, "999", "9.99", "tier 1: 999 x 0.01"},
		{"graduated exactly on a boundary", "USD", "graduated", tiers, "1000", "10", "tier 1: 1000 x 0.01"},
		{"graduated one past the boundary", "USD", "graduated", tiers, "1001", "10.01", "tier 1: 1000 x 0.01 + tier 2: 1 x 0.008"},
		{"graduated all tiers", "USD", "graduated", tiers, "7500", "54.5", "tier 1: 1000 x 0.01 + tier 2: 4000 x 0.008 + tier 3: 2500 x 0.005"},
		{"graduated zero usage", "USD", "graduated", tiers, "0", "0", "0 units"},
		{"volume exactly on a boundary", "USD", "volume", tiers, "1000", "10", "1000 x 0.01 (all units at tier 1)"},
		{"volume one past the boundary", "USD", "volume", tiers, "1001", "8.01", "1001 x 0.008 (all units at tier 2)"},
		{"volume top tier, half rounds away from zero", "USD", "volume", tiers, "5001", "25.01", "5001 x 0.005 (all units at tier 3)"},
		{"volume zero usage", "USD", "volume", tiers, "0", "0", "0 units"},
		{"package exact blocks", "USD", "package", "package_size: 1000\n      package_price: \"5.00\"", "2000", "10", "ceil(2000 / 1000) = 2 packages x 5"},
		{"package rounds blocks up", "USD", "package", "package_size: 1000\n      package_price: \"5.00\"", "2001", "15", "ceil(2001 / 1000) = 3 packages x 5"},
		{"package zero usage", "USD", "package", "package_size: 1000\n      package_price: \"5.00\"", "0", "0", "ceil(0 / 1000) = 0 packages x 5"},
		{"JPY rounds to whole yen", "JPY", "per_unit", `unit_price: "0.0015"`, "1234567", "1852", "1234567 x 0.0015"},
		{"BHD rounds to fils, half away from zero", "BHD", "per_unit", `unit_price: "0.00125"`, "1234", "1.543", "1234 x 0.00125"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := version(t, c.currency, `components:
  - id: api
    product: API
    model: `+c.model+`
    meter: api_calls
    price:
      `+c.price+"\n")
			inv := rate(t, v, jan, Usage{Quantities: []Quantity{qty("api_calls", c.quantity)}})
			if len(inv.Lines) != 1 {
				t.Fatalf("lines: %s", amounts(inv))
			}
			l := inv.Lines[0]
			if !l.Amount.Equal(dec(c.want)) || !inv.Total.Equal(dec(c.want)) {
				t.Fatalf("amount %s total %s, want %s (%s)", l.Amount, inv.Total, c.want, l.Explanation.Formula)
			}
			if l.Explanation.Formula != c.formula {
				t.Errorf("formula %q, want %q", l.Explanation.Formula, c.formula)
			}
			if l.Explanation.Clause != "v1.components[0]" || l.Kind != KindUsage || l.Timing != contract.InArrears {
				t.Errorf("explanation %+v kind %s timing %s", l.Explanation, l.Kind, l.Timing)
			}
		})
	}
}

func TestFreeUnits(t *testing.T) {
	v := version(t, "USD", `components:
  - {id: api, product: API, model: per_unit, meter: api_calls, free_units: 1000, price: {unit_price: "0.01"}}
`)
	for _, c := range []struct{ q, want, billable string }{{"1500", "5", "500"}, {"1000", "0", "0"}, {"400", "0", "0"}} {
		inv := rate(t, v, jan, Usage{Quantities: []Quantity{qty("api_calls", c.q)}})
		l := inv.Lines[0]
		if !l.Amount.Equal(dec(c.want)) || !l.Quantity.Equal(dec(c.billable)) {
			t.Errorf("q=%s: amount %s quantity %s, want %s for %s", c.q, l.Amount, l.Quantity, c.want, c.billable)
		}
		if !l.Explanation.Metered.Equal(dec(c.q)) {
			t.Errorf("q=%s: metered %s", c.q, l.Explanation.Metered)
		}
	}
}

func TestTokensPerModelGroups(t *testing.T) {
	v := version(t, "USD", `components:
  - {id: gpt4, product: TOKENS-GPT4, model: per_unit, meter: tokens, group: gpt-4, price: {unit_price: "0.00003"}}
  - {id: small, product: TOKENS-SMALL, model: per_unit, meter: tokens, group: small, price: {unit_price: "0.0000005"}}
`)
	inv := rate(t, v, jan, Usage{Quantities: []Quantity{
		{Meter: "tokens", Group: "gpt-4", Value: dec("1000000")},
		{Meter: "tokens", Group: "small", Value: dec("3000000")},
		{Meter: "tokens", Group: "gpt-4", Value: dec("500000")},
	}})
	if got := amounts(inv); got != "usage:gpt4=45 usage:small=1.5" {
		t.Fatalf("lines %s", got)
	}
}

func TestFlatFeeTimingAndContractEnd(t *testing.T) {
	v := version(t, "USD", `components:
  - {id: platform, product: PLATFORM, model: flat, price: {amount: "3100.00"}}
`)
	v.Billing.Timing = contract.InAdvance
	inv := rate(t, v, jan, Usage{})
	if l := inv.Lines[0]; !l.Amount.Equal(dec("3100")) || l.Timing != contract.InAdvance || l.Explanation.Proration != nil {
		t.Fatalf("full period: %+v", l)
	}
	// The contract ends on 2026-03-11: the last period is cut and the fee prorated on the nominal 31-day March.
	v.End = date("2026-03-11")
	inv = rate(t, v, Period{date("2026-03-01"), date("2026-03-11")}, Usage{})
	if l := inv.Lines[0]; !l.Amount.Equal(dec("1000")) || l.Explanation.Proration.Days != 10 || l.Explanation.Proration.PeriodDays != 31 {
		t.Fatalf("last partial period: %s %+v", l.Amount, l.Explanation.Proration)
	}
	if _, err := RateVersion(v, Period{date("2026-03-01"), date("2026-04-01")}, Usage{}); err == nil {
		t.Fatal("a period past the contract end must be refused")
	}
}

func TestSeatsDailyProration(t *testing.T) {
	v := version(t, "USD", `components:
  - {id: seats, product: SEATS, model: seats, price: {unit_price: "20.00", seats: 10}}
`)
	v.Billing.Timing = contract.InAdvance
	cases := []struct {
		name    string
		changes []SeatChange
		want    string
	}{
		{"no change", nil, "seats:seats=200"},
		{"change on the first day is the starting count", []SeatChange{{"seats", date("2026-01-01"), 15}}, "seats:seats=300"},
		{"change on the last day prorates one day", []SeatChange{{"seats", date("2026-01-31"), 15}}, "seats:seats=200 seat_change:seats=3.23"},
		{"mid-period increase", []SeatChange{{"seats", date("2026-01-16"), 15}}, "seats:seats=200 seat_change:seats=51.61"},
		{"increase then decrease", []SeatChange{{"seats", date("2026-01-11"), 13}, {"seats", date("2026-01-21"), 8}}, "seats:seats=200 seat_change:seats=5.16"},
		{"change before the period sets the start", []SeatChange{{"seats", date("2025-12-20"), 12}}, "seats:seats=240"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inv := rate(t, v, jan, Usage{Seats: c.changes})
			if got := amounts(inv); got != c.want {
				t.Fatalf("lines %s, want %s", got, c.want)
			}
			if inv.Lines[0].Timing != contract.InAdvance {
				t.Errorf("seats line timing %s", inv.Lines[0].Timing)
			}
			if len(inv.Lines) > 1 && inv.Lines[1].Timing != contract.InArrears {
				t.Errorf("seat change timing %s", inv.Lines[1].Timing)
			}
		})
	}
}

func TestPercentageOfVolume(t *testing.T) {
	v := version(t, "USD", `components:
  - id: pay
    product: PAYMENTS
    model: percentage
    meter: payments
    price: {percent: "2.9", fixed_fee: "0.30", min_fee: "0.50", max_fee: "10.00"}
`)
	tx := func(a string) Transaction { return Transaction{Meter: "payments", Amount: dec(a)} }
	inv := rate(t, v, jan, Usage{Transactions: []Transaction{tx("100.00"), tx("5.00"), tx("1000.00"), tx("333.33")}})
	// 100: 2.90+0.30=3.20; 5: 0.445 -> min 0.50; 1000: 29.30 -> max 10.00; 333.33: 9.66657+0.30=9.96657
	if got := inv.Total; !got.Equal(dec("23.67")) {
		t.Fatalf("total %s (%s), want 23.67", got, inv.Lines[0].Explanation.Formula)
	}
	if !inv.Lines[0].Quantity.Equal(dec("1438.33")) || !inv.Lines[0].Explanation.Unrounded.Equal(dec("23.66657")) {
		t.Fatalf("volume %s unrounded %s", inv.Lines[0].Quantity, inv.Lines[0].Explanation.Unrounded)
	}
	// Aggregated volume is refused when the price has per-transaction terms.
	if _, err := RateVersion(v, jan, Usage{Quantities: []Quantity{qty("payments", "100")}}); err == nil || !strings.Contains(err.Error(), "usage.quantities[0]") {
		t.Fatalf("aggregated volume with per-transaction fee: %v", err)
	}
	plain := version(t, "USD", `components:
  - {id: pay, product: PAYMENTS, model: percentage, meter: payments, price: {percent: "0.5"}}
`)
	inv = rate(t, plain, jan, Usage{Quantities: []Quantity{qty("payments", "12345.67")}})
	if !inv.Total.Equal(dec("61.73")) {
		t.Fatalf("0.5%% of 12345.67 = %s, want 61.73", inv.Total)
	}
}

func TestCommitTrueUp(t *testing.T) {
	v := version(t, "USD", `components:
  - {id: platform, product: PLATFORM, model: flat, price: {amount: "100.00"}}
  - {id: api, product: API, model: per_unit, meter: api_calls, price: {unit_price: "0.002"}}
commit: {amount: "500.00"}
`)
	inv := rate(t, v, jan, Usage{Quantities: []Quantity{qty("api_calls", "12345")}})
	if got := amounts(inv); got != "recurring:platform=100 usage:api=24.69 commit_true_up:commit=475.31" {
		t.Fatalf("below commit: %s", got)
	}
	inv = rate(t, v, jan, Usage{})
	if got := amounts(inv); got != "recurring:platform=100 usage:api=0 commit_true_up:commit=500" {
		t.Fatalf("zero usage: %s", got)
	}
	inv = rate(t, v, jan, Usage{Quantities: []Quantity{qty("api_calls", "250000")}})
	if got := amounts(inv); got != "recurring:platform=100 usage:api=500" {
		t.Fatalf("exactly at commit: %s", got)
	}
	inv = rate(t, v, jan, Usage{Quantities: []Quantity{qty("api_calls", "300000")}})
	if got := amounts(inv); got != "recurring:platform=100 usage:api=600" {
		t.Fatalf("above commit: %s", got)
	}
}

func TestDiscounts(t *testing.T) {
	v := version(t, "USD", `components:
  - id: api
    product: API
    model: per_unit
    meter: api_calls
    price: {unit_price: "0.002"}
    discount: {kind: percent, percent: "10"}
  - id: platform
    product: PLATFORM
    model: flat
    price: {amount: "100.00"}
    discount: {kind: fixed, amount: "150.00"}
discounts:
  - {id: loyalty, kind: fixed, amount: "5.00"}
  - {id: promo, kind: percent, percent: "50", from: 2026-02-01}
`)
	inv := rate(t, v, jan, Usage{Quantities: []Quantity{qty("api_calls", "12345")}})
	// 24.69 - 2.469 (rounded 2.47); the 150 fixed discount is capped at the 100 fee; invoice fixed 5.00; promo not yet valid.
	want := "usage:api=24.69 discount:api=-2.47 recurring:platform=100 discount:platform=-100 discount:loyalty=-5"
	if got := amounts(inv); got != want {
		t.Fatalf("lines %s\nwant  %s", got, want)
	}
	if !inv.Discounts.Equal(dec("-107.47")) || !inv.Total.Equal(dec("17.22")) {
		t.Fatalf("discounts %s total %s", inv.Discounts, inv.Total)
	}
	inv = rate(t, v, Period{date("2026-02-01"), date("2026-03-01")}, Usage{Quantities: []Quantity{qty("api_calls", "12345")}})
	// promo: 50% of (24.69 - 2.47 + 0 - 5.00) = 8.61
	if got := inv.Lines[len(inv.Lines)-1]; !strings.HasSuffix(got.Key, ":promo") || !got.Amount.Equal(dec("-8.61")) {
		t.Fatalf("promo line %+v", got)
	}
}
