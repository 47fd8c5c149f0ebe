package recon

import (
	"strconv"
	"testing"

	"github.com/shopspring/decimal"
)

// BenchmarkMatch compares two sides of 100,000 invoices each (a large month) with 1% differences.
func BenchmarkMatch(b *testing.B) {
	const n = 100_000
	left := make([]Item, n)
	right := make([]Item, n)
	for i := range n {
		key := "inv_" + strconv.Itoa(i)
		amt := decimal.New(int64(1000+i%5000), -2)
		left[i] = Item{Key: key, Amount: amt, Currency: "USD"}
		if i%100 == 0 {
			amt = amt.Add(decimal.New(1, -2))
		}
		right[n-1-i] = Item{Key: key, Amount: amt, Currency: "USD"}
	}
	b.ReportAllocs()
	for b.Loop() {
		c, err := Match(CheckInvoicesVsLedger, "close/acme/2026-10", "ledger", Listing{"invoices", left}, Listing{"ledger", right})
		if err != nil || len(c.Differences) != n/100 {
			b.Fatalf("%d differences, %v", len(c.Differences), err)
		}
	}
}
