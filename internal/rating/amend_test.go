package rating

import (
	"errors"
	"strings"
	"testing"

	"github.com/revhub/revhub/internal/contract"
)

func amended(t *testing.T) contract.Contract {
	t.Helper()
	v1 := version(t, "USD", `components:
  - {id: platform, product: PLATFORM, model: flat, price: {amount: "3100.00"}}
  - {id: seats, product: SEATS, model: seats, price: {unit_price: "31.00", seats: 10}}
  - {id: api, product: API, model: per_unit, meter: api_calls, free_units: 1000, price: {unit_price: "0.01"}}
`)
	v2 := version(t, "USD", `components:
  - {id: platform, product: PLATFORM, model: flat, price: {amount: "6200.00"}}
  - {id: seats, product: SEATS, model: seats, price: {unit_price: "31.00", seats: 10}}
  - {id: api, product: API, model: per_unit, meter: api_calls, free_units: 1000, price: {unit_price: "0.005"}}
`)
	v2.Version = 2
	v2.EffectiveFrom = date("2026-01-11")
	c := contract.Contract{ID: "ctr_test", Versions: []contract.Version{v1}}
	if err := c.Amend(v2, date("2026-01-01")); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAmendmentSplitsThePeriod(t *testing.T) {
	c := amended(t)
	u := Usage{Quantities: []Quantity{
		{Meter: "api_calls", Date: date("2026-01-05"), Value: dec("3000")},
		{Meter: "api_calls", Date: date("2026-01-20"), Value: dec("10000")},
	}}
	inv, err := Rate(c, jan, u)
	if err != nil {
		t.Fatal(err)
	}
	checkInvoice(t, inv)
	// v1 for 10 days: 3100 x 10/31 = 1000; 10 seats x 31 x 10/31 = 100; 3000 calls - 1000 free = 2000 x 0.01 = 20.
	// v2 for 21 days: 6200 x 21/31 = 4200; 10 seats x 31 x 21/31 = 210; 10000 calls (free units used up) x 0.005 = 50.
	want := "recurring:platform=1000 seats:seats=100 usage:api=20 recurring:platform=4200 seats:seats=210 usage:api=50"
	if got := amounts(inv); got != want {
		t.Fatalf("lines %s\nwant  %s", got, want)
	}
	if inv.Lines[0].Version != 1 || inv.Lines[3].Version != 2 || inv.Lines[3].Explanation.Clause != "v2.components[0]" {
		t.Fatalf("versions: %d %d %s", inv.Lines[0].Version, inv.Lines[3].Version, inv.Lines[3].Explanation.Clause)
	}
	if p := inv.Lines[3].Period; p.Start != date("2026-01-11") || p.End != date("2026-02-01") {
		t.Fatalf("v2 part %s", p)
	}
	// The period before the amendment is untouched: December... and periods after are v2 only.
	inv, err = Rate(c, Period{date("2026-02-01"), date("2026-03-01")}, Usage{})
	if err != nil {
		t.Fatal(err)
	}
	if got := amounts(inv); got != "recurring:platform=6200 seats:seats=310 usage:api=0" {
		t.Fatalf("february %s", got)
	}
	// Undated usage cannot be attributed to a part of a split period.
	_, err = Rate(c, jan, Usage{Quantities: []Quantity{qty("api_calls", "5")}})
	var ps contract.Problems
	if !errors.As(err, &ps) || ps[0].Path != "usage.quantities[0].date" {
		t.Fatalf("undated usage in a split period: %v", err)
	}
}

// TestSplitRecurringFeeAddsBackToTheWhole: a fee whose price does not change across an amendment is billed in two
// parts that add up exactly to the full-period fee, because the parts are rounded cumulatively.
func TestSplitRecurringFeeAddsBackToTheWhole(t *testing.T) {
	for _, amt := range []string{"100.00", "999.99", "0.01", "1234.57"} {
		v1 := version(t, "USD", `components:
  - {id: platform, product: PLATFORM, model: flat, price: {amount: "`+amt+`"}}
`)
		for day := 2; day <= 31; day++ {
			v2 := v1
			v2.Version, v2.EffectiveFrom = 2, contract.NewDate(2026, 1, day)
			c := contract.Contract{ID: "ctr_test", Versions: []contract.Version{v1, v2}}
			inv, err := Rate(c, jan, Usage{})
			if err != nil {
				t.Fatal(err)
			}
			checkInvoice(t, inv)
			if len(inv.Lines) != 2 || !inv.Total.Equal(dec(amt)) {
				t.Fatalf("%s split on day %d: %s (total %s)", amt, day, amounts(inv), inv.Total)
			}
		}
	}
}

func TestRampsChangePriceByPeriod(t *testing.T) {
	v := version(t, "USD", `components:
  - id: api
    product: API
    model: per_unit
    meter: api_calls
    price: {unit_price: "0.01"}
    ramps:
      - {from: 2026-03-01, to: 2026-06-01, price: {unit_price: "0.008"}}
      - {from: 2026-06-01, price: {unit_price: "0.006"}}
`)
	for _, c := range []struct {
		start, end, want, clause string
	}{
		{"2026-02-01", "2026-03-01", "100", "v1.components[0]"},
		{"2026-03-01", "2026-04-01", "80", "v1.components[0].ramps[0]"},
		{"2026-07-01", "2026-08-01", "60", "v1.components[0].ramps[1]"},
	} {
		inv := rate(t, v, Period{date(c.start), date(c.end)}, Usage{Quantities: []Quantity{qty("api_calls", "10000")}})
		if l := inv.Lines[0]; !l.Amount.Equal(dec(c.want)) || l.Explanation.Clause != c.clause {
			t.Errorf("%s: %s %s, want %s %s", c.start, l.Amount, l.Explanation.Clause, c.want, c.clause)
		}
	}
}

func TestLateUsageIsASeparateLine(t *testing.T) {
	v := version(t, "USD", `components:
  - id: api
    product: API
    model: graduated
    meter: api_calls
    price:`+tiers+`
`)
	feb := Period{date("2026-02-01"), date("2026-03-01")}
	inv := rate(t, v, feb, Usage{
		Quantities: []Quantity{qty("api_calls", "100")},
		Late:       []LateUsage{{Period: jan, Meter: "api_calls", Billed: dec("900"), Additional: dec("200"), Reference: "batch-7"}},
	})
	// January billed 900 x 0.01 = 9.00; with 1100 it would have been 10.00 + 0.80 = 10.80: the late line is 1.80.
	if got := amounts(inv); got != "usage:api=1 late_usage:api=1.8" {
		t.Fatalf("lines %s", got)
	}
	l := inv.Lines[1]
	if l.Period != jan || l.Kind != KindLateUsage || l.Explanation.Formula != "round(900 billed + 200 late: tier 1: 1000 x 0.01 + tier 2: 100 x 0.008) - round(900 billed: 9)" {
		t.Fatalf("late line %+v", l)
	}
	// Free units the period left unused absorb late usage first: 150 of the 200 late calls are free.
	inv = rate(t, v, feb, Usage{Late: []LateUsage{{Period: jan, Meter: "api_calls", Billed: dec("900"), FreeLeft: dec("150"), Additional: dec("200")}}})
	if got := amounts(inv); got != "usage:api=0 late_usage:api=0.5" {
		t.Fatalf("late usage with free units left: %s", got)
	}
	_, err := RateVersion(v, feb, Usage{Late: []LateUsage{{Period: feb, Meter: "api_calls", Additional: dec("1")}}})
	if err == nil || !strings.Contains(err.Error(), "usage.late[0].period") {
		t.Fatalf("late usage for the current period: %v", err)
	}
}

func TestUsageProblemsReportedTogether(t *testing.T) {
	v := version(t, "USD", `components:
  - {id: api, product: API, model: per_unit, meter: api_calls, price: {unit_price: "0.01"}}
  - {id: seats, product: SEATS, model: seats, price: {unit_price: "10"}}
`)
	_, err := RateVersion(v, jan, Usage{
		Quantities:   []Quantity{{Meter: "api_calls", Value: dec("-1")}, {Meter: "api_calls", Date: date("2026-02-01"), Value: dec("1")}},
		Transactions: []Transaction{{Meter: "payments", Amount: dec("-5")}},
		Seats:        []SeatChange{{Component: "api", Date: date("2026-01-02"), Seats: 1}, {Component: "nope", Date: date("2026-01-02")}},
	})
	var ps contract.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want problems, got %v", err)
	}
	want := []string{"usage.quantities[0].quantity", "usage.quantities[1].date", "usage.transactions[0].amount", "usage.seats[0].component", "usage.seats[1].component"}
	if len(ps) != len(want) {
		t.Fatalf("problems %v", ps)
	}
	for i, p := range ps {
		if p.Path != want[i] {
			t.Errorf("problem %d at %s, want %s", i, p.Path, want[i])
		}
	}
	if _, err := RateVersion(v, Period{date("2026-01-15"), date("2026-02-15")}, Usage{}); err == nil {
		t.Fatal("a period not aligned on the billing cadence must be refused")
	}
}

func TestQuarterlyAndAnnualPeriods(t *testing.T) {
	v := version(t, "USD", `components:
  - {id: platform, product: PLATFORM, model: flat, price: {amount: "9000.00"}}
`)
	v.Billing.Cadence = contract.Quarterly
	v.Start = date("2026-01-31")
	c := contract.Contract{ID: v.ContractID, Versions: []contract.Version{v}}
	ps, err := Periods(c, date("2026-01-31"), date("2027-01-31"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Period.String())
	}
	if strings.Join(got, " ") != "2026-01-31..2026-04-30 2026-04-30..2026-07-31 2026-07-31..2026-10-31 2026-10-31..2027-01-31" {
		t.Fatalf("quarters anchored on the 31st: %v", got)
	}
}
