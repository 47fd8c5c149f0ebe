package payment_test

import (
	"fmt"
	"testing"

	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/payment"
)

// BenchmarkMatch reconciles a month of 100,000 captured payments against the provider's list.
func BenchmarkMatch(b *testing.B) {
	const n = 100_000
	ours := make([]payment.Payment, n)
	theirs := make([]provider.Captured, n)
	for i := range n {
		id := fmt.Sprintf("pi_%08d", i)
		amt := dec(fmt.Sprintf("%d.%02d", i%5000, i%100))
		ours[i] = payment.Payment{IdempotencyKey: fmt.Sprintf("invoice:INV-%d:charge:1", i), ProviderID: id, Amount: amt, Currency: "USD"}
		theirs[n-1-i] = provider.Captured{ProviderID: id, Amount: amt, Currency: "USD"}
	}
	b.ResetTimer()
	for b.Loop() {
		res := payment.Match(provider.Stripe, ours, theirs)
		if len(res.Matched) != n {
			b.Fatalf("matched %d", len(res.Matched))
		}
	}
}
