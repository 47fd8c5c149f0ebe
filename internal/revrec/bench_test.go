package revrec

import (
	"fmt"
	"io"
	"testing"

	"github.com/shopspring/decimal"
)

// benchArrangement is a three-year deal: platform, seats, setup, services and usage with a monthly
// commit and 36 months of consumption, amended twice (prospective, then cumulative catch-up).
func benchArrangement(id string) Arrangement {
	start, end := day("2026-01-01"), day("2029-01-01")
	obs := []Obligation{
		{ID: "platform", Product: "platform", Kind: KindPlatform, Price: d("36000.00"), Start: start, End: end},
		{ID: "seats", Product: "seats", Kind: KindSeats, Quantity: d("25"), Price: d("40000.00"), Start: start, End: end},
		{ID: "setup", Product: "setup", Kind: KindSetup, Price: d("1200.00"), Start: start, End: end},
		{ID: "onboarding", Product: "onboarding", Kind: KindServices, Price: d("2500.00"), DeliveredOn: day("2026-02-20")},
		{ID: "api", Product: "api_calls", Kind: KindUsage, Start: start, End: end, Commitment: &Commitment{Amount: d("500.00"), Period: CommitMonthly}},
	}
	a := Arrangement{ID: id, CustomerID: "cust-" + id, EntityID: "us", Currency: "USD", Obligations: obs}
	up := append([]Obligation(nil), obs...)
	up[1].Quantity, up[1].Price = d("40"), d("58000.00")
	down := append([]Obligation(nil), up...)
	down[0].Price = d("34000.00")
	a.Amendments = []Amendment{
		{ID: "up", Effective: day("2026-09-15"), Method: MethodProspective, Obligations: up},
		{ID: "down", Effective: day("2027-06-01"), Method: MethodCumulativeCatchUp, Obligations: down},
	}
	for i, m := range MonthsBetween(MustMonth("2026-01"), MustMonth("2028-12")) {
		a.Consumption = append(a.Consumption, Consumption{ObligationID: "api", Month: m, Amount: decimal.New(int64(30000+i*1000), -2)})
		a.Billings = append(a.Billings, Billing{ID: fmt.Sprintf("inv-%d", i), ObligationID: "platform", Date: m.Start(), Amount: d("1000.00")})
	}
	return a
}

// BenchmarkCompute measures one three-year arrangement with two amendments; goal: under 5ms, so a book
// of 10,000 contracts recomputes in under a minute on one core.
func BenchmarkCompute(b *testing.B) {
	a, t := benchArrangement("a"), DefaultSSPTable()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compute(a, t); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReports measures journal, roll-forward, waterfall and CSV for 1,000 such arrangements
// (180,000 schedule lines), the size of a month-end close for a mid-sized book; goal: under 2s.
func BenchmarkReports(b *testing.B) {
	t := DefaultSSPTable()
	var lines []Line
	for i := range 1000 {
		s, err := Compute(benchArrangement(fmt.Sprintf("a%04d", i)), t)
		if err != nil {
			b.Fatal(err)
		}
		lines = append(lines, s.Lines...)
	}
	first, last := MustMonth("2026-01"), MustMonth("2028-12")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Journal(lines, DefaultAccounts()); err != nil {
			b.Fatal(err)
		}
		if err := WriteRollForwardCSV(io.Discard, RollForward(lines, first, last)); err != nil {
			b.Fatal(err)
		}
		months, rows := Waterfall(lines, first, last)
		if err := WriteWaterfallCSV(io.Discard, months, rows); err != nil {
			b.Fatal(err)
		}
	}
}
