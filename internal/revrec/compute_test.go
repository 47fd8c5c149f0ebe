package revrec

import (
	"errors"
	"math/rand"
	"strings"
	"testing"
	"testing/quick"
	"time"

	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func platform(price string) Obligation {
	return Obligation{ID: "platform", Product: "platform", Kind: KindPlatform, Price: d(price),
		Start: day("2026-01-01"), End: day("2027-01-01")}
}

func arrangement(obs ...Obligation) Arrangement {
	return Arrangement{ID: "a1", CustomerID: "c1", EntityID: "us", Currency: "USD", Obligations: obs}
}

// revenueOf returns an obligation's revenue per month as "YYYY-MM" -> amount, dropping zero months.
func revenueOf(s *Schedule, id string) map[string]string {
	out := map[string]string{}
	for _, l := range s.Lines {
		if l.ObligationID == id && !l.Revenue.IsZero() {
			out[l.Month.String()] = l.Revenue.StringFixed(2)
		}
	}
	return out
}

func totalRecognized(s *Schedule) decimal.Decimal {
	t := decimal.Zero
	for _, l := range s.Lines {
		t = t.Add(l.Recognized())
	}
	return t
}

func TestRatablySumsToWhole(t *testing.T) {
	f := func(cents int64, startOffset uint16, length uint16) bool {
		amount := decimal.New(cents%1_000_000_000, -2)
		from := day("2024-01-01").AddDate(0, 0, int(startOffset%1500))
		to := from.AddDate(0, 0, 1+int(length%1200))
		months, err := ratably(amount, from, to, "USD")
		if err != nil {
			t.Log(err)
			return false
		}
		if len(months) != len(MonthsBetween(MonthOf(from), MonthOf(to.AddDate(0, 0, -1)))) {
			return false
		}
		sum := decimal.Zero
		for _, v := range months {
			if !v.Equal(v.Round(2)) {
				return false
			}
			sum = sum.Add(v)
		}
		return sum.Equal(amount)
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 3000}); err != nil {
		t.Fatal(err)
	}
}

// TestScheduleSumsToTransactionPrice: whatever the prices, periods and amendment, once everything is
// delivered and every period has ended, the schedule recognizes exactly the last transaction price,
// every month is rounded, and the net position ends at billed less recognized.
func TestScheduleSumsToTransactionPrice(t *testing.T) {
	f := func(seed int64) bool {
		r := rand.New(rand.NewSource(seed))
		price := func() decimal.Decimal { return decimal.New(r.Int63n(5_000_000)+1, -2) }
		start := day("2026-01-01").AddDate(0, 0, r.Intn(200))
		obs := []Obligation{
			{ID: "p", Product: "platform", Kind: KindPlatform, Price: price(), Start: start, End: start.AddDate(0, 0, 30+r.Intn(700))},
			{ID: "s", Product: "seats", Kind: KindSeats, Quantity: decimal.NewFromInt(int64(1 + r.Intn(50))), Price: price(),
				Start: start, End: start.AddDate(0, 0, 30+r.Intn(700))},
			{ID: "o", Product: "onboarding", Kind: KindServices, Price: price(), DeliveredOn: start.AddDate(0, 0, r.Intn(300))},
		}
		a := arrangement(obs...)
		a.Variable = []VariableConsideration{{ID: "bonus", Amount: decimal.New(r.Int63n(200_000), -2)}}
		e := start.AddDate(0, 0, 1+r.Intn(400))
		amended := append([]Obligation(nil), obs...)
		amended[0].Price = price()
		amended[1].End = amended[1].End.AddDate(0, 0, r.Intn(100))
		amended = append(amended, Obligation{ID: "x", Product: "setup", Kind: KindSetup, Price: price(), Start: e, End: e.AddDate(0, 0, 1+r.Intn(365))})
		method := MethodProspective
		if r.Intn(2) == 0 {
			method = MethodCumulativeCatchUp
		}
		a.Amendments = []Amendment{{ID: "am", Effective: e, Method: method, Obligations: amended, Variable: a.Variable}}
		a.Billings = []Billing{{ID: "b", ObligationID: "p", Date: start, Amount: price()}}
		s, err := Compute(a, DefaultSSPTable())
		if err != nil {
			// A prospective amendment after every obligation has ended has nothing left to allocate to.
			if method == MethodProspective && IsInvalid(err) && strings.Contains(err.Error(), "no remaining obligation") {
				return true
			}
			t.Logf("seed %d: %v", seed, err)
			return false
		}
		want := decimal.Zero
		for _, o := range amended {
			want = want.Add(o.Price)
		}
		want = want.Add(a.Variable[0].Amount)
		if got := totalRecognized(s); !got.Equal(want) {
			t.Logf("seed %d (%s): recognized %s, transaction price %s", seed, method, got, want)
			return false
		}
		for _, l := range s.Lines {
			if !l.Revenue.Equal(l.Revenue.Round(2)) {
				return false
			}
		}
		bals := Balances(s.Lines)
		last := bals[len(bals)-1]
		return last.Closing.Equal(a.Billings[0].Amount.Sub(want))
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 500}); err != nil {
		t.Fatal(err)
	}
}

func TestCumulativeCatchUp(t *testing.T) {
	// Platform for 2026 at 12,000; on 1 July the price of the same, not-distinct service rises to 15,000.
	a := arrangement(platform("12000.00"))
	amended := platform("15000.00")
	a.Amendments = []Amendment{{ID: "price", Effective: day("2026-07-01"), Method: MethodCumulativeCatchUp,
		Reason: "one partly satisfied obligation", Obligations: []Obligation{amended}}}
	s, err := Compute(a, DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	// Progress at 1 July under the new price: 15,000 x 181/365 = 7,438.36; recognized 5,950.68;
	// catch-up 1,487.68; the remaining 7,561.64 by day over July-December (July 31/184 = 1,273.97).
	v := s.Versions[1]
	if v.Method != MethodCumulativeCatchUp || v.Reason == "" || !v.Allocations[0].CatchUp.Equal(d("1487.68")) {
		t.Fatalf("version = %+v", v)
	}
	rev := revenueOf(s, "platform")
	if rev["2026-06"] != "986.30" || rev["2026-07"] != "2761.65" {
		t.Fatalf("June %s, July %s; want 986.30 and 1,487.68 + 1,273.97 = 2,761.65", rev["2026-06"], rev["2026-07"])
	}
	for _, l := range s.Lines {
		if l.Month == MustMonth("2026-07") && !l.CatchUp.Equal(d("1487.68")) {
			t.Fatalf("July catch-up column = %s", l.CatchUp)
		}
	}
	if got := totalRecognized(s); !got.Equal(d("15000")) {
		t.Fatalf("total = %s", got)
	}
}

func TestProspectiveMidMonth(t *testing.T) {
	// Amended on 16 March: March keeps the days before the 16th of its old plan, never restating January or February.
	a := arrangement(platform("12000.00"))
	amended := platform("12000.00")
	amended.End = day("2026-04-01") // cancelled at the end of March, no refund
	a.Amendments = []Amendment{{ID: "cancel", Effective: day("2026-03-16"), Method: MethodProspective, Obligations: []Obligation{amended}}}
	s, err := Compute(a, DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	// Before 16 March: Jan 1,019.18 + Feb 920.54 + 15/31 of March's 1,019.18 (493.15) = 2,432.87.
	// Remaining 12,000 - 2,432.87 = 9,567.13, all on the 16 days left in March.
	rev := revenueOf(s, "platform")
	if rev["2026-01"] != "1019.18" || rev["2026-02"] != "920.54" || rev["2026-03"] != "10060.28" || len(rev) != 3 {
		t.Fatalf("revenue = %v", rev)
	}
	if !s.Versions[1].Allocated.Equal(d("9567.13")) {
		t.Fatalf("remaining consideration = %s", s.Versions[1].Allocated)
	}
}

func TestVariableConsideration(t *testing.T) {
	services := Obligation{ID: "onboarding", Product: "onboarding", Kind: KindServices, Price: d("3000.00"), DeliveredOn: day("2026-03-10")}
	a := arrangement(platform("12000.00"), services)
	// A 600 go-live bonus tied to onboarding, and a 1,500 volume rebate spread by SSP (12,000 : 3,000).
	a.Variable = []VariableConsideration{
		{ID: "golive", Description: "go-live bonus", Amount: d("600.00"), ObligationID: "onboarding"},
		{ID: "rebate", Description: "expected volume rebate", Amount: d("-1500.00")},
	}
	s, err := Compute(a, DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	v := s.Versions[0]
	if !v.TransactionPrice.Equal(d("14100")) {
		t.Fatalf("transaction price = %s", v.TransactionPrice)
	}
	if !v.Allocations[0].Allocated.Equal(d("10800")) || !v.Allocations[1].Allocated.Equal(d("3300")) {
		t.Fatalf("allocations = %+v", v.Allocations)
	}
	if rev := revenueOf(s, "onboarding"); rev["2026-03"] != "3300.00" || len(rev) != 1 {
		t.Fatalf("onboarding revenue = %v", rev)
	}
}

func TestUndeliveredServicesStayDeferred(t *testing.T) {
	a := arrangement(Obligation{ID: "training", Product: "onboarding", Kind: KindServices, Price: d("3000.00")})
	a.Billings = []Billing{{ID: "i", ObligationID: "training", Date: day("2026-02-01"), Amount: d("3000.00")}}
	s, err := Compute(a, DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	b := Balances(s.Lines)
	if len(b) != 1 || !b[0].Deferred.Equal(d("3000")) || !totalRecognized(s).IsZero() {
		t.Fatalf("balances = %+v", b)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	a := Arrangement{ID: "bad", Currency: "USD", Obligations: []Obligation{
		{ID: "p", Product: "platform", Kind: KindPlatform, Price: d("100.001"), Start: day("2026-02-01"), End: day("2026-01-01")},
		{ID: "p", Product: "nope", Kind: KindSeats, Price: d("10.00"), Start: day("2026-01-01"), End: day("2026-02-01")},
		{ID: "u", Product: "api_calls", Kind: KindUsage, Price: d("5.00"), Start: day("2026-01-15"), End: day("2026-03-01"),
			Commitment: &Commitment{Amount: d("100.00"), Period: CommitMonthly}},
		{ID: "x", Product: "setup", Kind: "gadget"},
	},
		Consumption: []Consumption{{ObligationID: "p", Month: MustMonth("2026-01"), Amount: d("1.00")}},
		Billings:    []Billing{{ID: "b", ObligationID: "ghost", Amount: d("1.00")}},
		Amendments:  []Amendment{{ID: "am", Method: "sideways", Effective: day("2026-06-01"), Obligations: []Obligation{platform("1.00")}}},
	}
	err := Validate(a, DefaultSSPTable())
	ia, ok := err.(*InvalidArrangement)
	if !ok || !IsInvalid(err) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		"customer_id", "entity_id", "obligations[0].price", "obligations[0].end", "obligations[1].id",
		"obligations[1].product", "obligations[2].price", "obligations[2].commitment.period", "obligations[3].kind",
		"billings[0].obligation_id", "billings[0].date", "consumption[0].obligation_id", "amendments[0].method",
		"amendments[0].obligations",
	}
	got := map[string]bool{}
	for _, p := range ia.Problems {
		got[p.Field] = true
		if p.Reason == "" {
			t.Errorf("%s: empty reason", p.Field)
		}
	}
	for _, f := range want {
		if !got[f] {
			t.Errorf("no problem reported for %s; got %v", f, ia.Problems)
		}
	}
	if _, err := Compute(a, DefaultSSPTable()); !IsInvalid(err) {
		t.Fatalf("Compute: err = %v", err)
	}
}

func TestMonthlyCommitmentBreakage(t *testing.T) {
	u := Obligation{ID: "api", Product: "api_calls", Kind: KindUsage, Start: day("2026-01-01"), End: day("2026-03-01"),
		Commitment: &Commitment{Amount: d("500.00"), Period: CommitMonthly}}
	a := arrangement(u)
	a.Consumption = []Consumption{{ObligationID: "api", Month: MustMonth("2026-02"), Amount: d("800.00")}}
	s, err := Compute(a, DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	// January: no usage at all, the whole 500 is breakage; February: above the minimum, none.
	for _, l := range s.Lines {
		want := map[string]string{"2026-01": "500", "2026-02": "0"}[l.Month.String()]
		if !l.Breakage.Equal(d(want)) {
			t.Errorf("%s breakage = %s, want %s", l.Month, l.Breakage, want)
		}
	}
}

func TestMonthsIn(t *testing.T) {
	cases := []struct{ from, to, want string }{
		{"2026-01-01", "2027-01-01", "12"},
		{"2026-07-01", "2027-01-01", "6"},
		{"2026-01-31", "2026-02-28", "1"},
		{"2026-01-01", "2026-01-16", "0.483870967742"}, // 15/31
		{"2026-02-01", "2026-03-15", "1.451612903226"}, // 1 + 14/31
	}
	for _, c := range cases {
		if got := monthsIn(day(c.from), day(c.to)); !got.Equal(d(c.want)) {
			t.Errorf("monthsIn(%s, %s) = %s, want %s", c.from, c.to, got, c.want)
		}
	}
}

func TestDeliveryRecordedInAmendment(t *testing.T) {
	services := Obligation{ID: "onboarding", Product: "onboarding", Kind: KindServices, Price: d("3000.00")}
	a := arrangement(platform("12000.00"), services)
	delivered := services
	delivered.DeliveredOn = day("2026-05-20")
	a.Amendments = []Amendment{{ID: "am", Effective: day("2026-06-01"), Method: MethodProspective,
		Obligations: []Obligation{platform("12000.00"), delivered}}}
	s, err := Compute(a, DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	// Delivered on 20 May under the original contract: the original allocation (12,000 : 3,000 by SSP, as
	// priced) recognizes it in May, and the amendment has nothing left for it.
	if rev := revenueOf(s, "onboarding"); rev["2026-05"] != "3000.00" || len(rev) != 1 {
		t.Fatalf("onboarding revenue = %v", rev)
	}
	if got := totalRecognized(s); !got.Equal(d("15000")) {
		t.Fatalf("total = %s", got)
	}
}

func TestProspectiveNewVariableGoesToItsObligation(t *testing.T) {
	a := arrangement(platform("12000.00"))
	seats := Obligation{ID: "seats", Product: "seats", Kind: KindSeats, Quantity: d("20"), Price: d("6000.00"),
		Start: day("2026-07-01"), End: day("2027-01-01")}
	a.Amendments = []Amendment{{ID: "am", Effective: day("2026-07-01"), Method: MethodProspective,
		Obligations: []Obligation{platform("12000.00"), seats},
		Variable:    []VariableConsideration{{ID: "adoption", Description: "adoption bonus", Amount: d("300.00"), ObligationID: "seats"}}}}
	s, err := Compute(a, DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	// Remaining 18,300 - 5,950.68 = 12,349.32: the new 300 bonus goes to the seats, the other 12,049.32 by
	// remaining SSP 6,049.32 : 6,000 (both at SSP, so 6,049.32 and 6,000.00).
	al := s.Versions[1].Allocations
	if !s.Versions[1].Allocated.Equal(d("12349.32")) || !al[0].Allocated.Equal(d("6049.32")) || !al[1].Allocated.Equal(d("6300")) {
		t.Fatalf("version = %+v", s.Versions[1])
	}
}

func TestProspectiveWithNothingLeftIsInvalid(t *testing.T) {
	a := arrangement(platform("12000.00"))
	a.Amendments = []Amendment{{ID: "late", Effective: day("2027-02-01"), Method: MethodProspective,
		Obligations: []Obligation{platform("13000.00")}}}
	_, err := Compute(a, DefaultSSPTable())
	var ia *InvalidArrangement
	if !errors.As(err, &ia) || ia.Problems[0].Field != "amendments[0]" || !strings.Contains(ia.Problems[0].Reason, "1000") {
		t.Fatalf("err = %v", err)
	}
	// The same change as a cumulative catch-up is recognized at once in the effective month.
	a.Amendments[0].Method = MethodCumulativeCatchUp
	s, err := Compute(a, DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	if rev := revenueOf(s, "platform"); rev["2027-02"] != "1000.00" {
		t.Fatalf("revenue = %v", rev)
	}
}
