package chaosclose

import "testing"

// TestExpectedTotalsArithmetic pins the hand-computed totals: Initech's is 500.00 + 769 emails x
// 0.001 (0.77) + 2.9% of 19,299.20 (559.6768) + 81 x 0.30 (24.30) = 1,084.75 (583.9768 rounded once).
func TestExpectedTotalsArithmetic(t *testing.T) {
	want := map[string]string{
		"ctr_sf_0065g00000acme1AAA": "1675.00 USD",
		"ctr_sf_0065g00000globxAAA": "500.00 EUR",
		"ctr_sf_0065g00000initcAAA": "1084.75 USD",
	}
	got := ExpectedTotals()
	if len(got) != len(want) {
		t.Fatalf("%d expectations, want %d", len(got), len(want))
	}
	for _, e := range got {
		if s := e.Total.StringFixed(2) + " " + e.Currency; s != want[e.ContractID] {
			t.Errorf("%s: %s (%s), want %s", e.ContractID, s, e.Why, want[e.ContractID])
		}
	}
}
