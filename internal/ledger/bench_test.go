package ledger_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/revhub/revhub/internal/ledger"
)

// BenchmarkPost measures posting distinct invoice entries (entry and postings in one statement).
func BenchmarkPost(b *testing.B) {
	d := dbtestNew(b)
	ch := ledger.DefaultChart()
	ctx := context.Background()
	if err := ledger.SyncChart(ctx, d, ch); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e, err := ledger.InvoiceFinalized(ch, ledger.Invoice{ID: fmt.Sprintf("inv_%d", i), Party: ledger.Party{Entity: "us", Customer: "c"},
			Date: ledger.Date(2026, 11, 1+i%28), Currency: "USD", Lines: []ledger.InvoiceLine{
				{Product: "platform", Amount: dec("100.00"), Treatment: ledger.BilledInAdvance},
				{Product: "usage", Amount: dec("12.34"), Treatment: ledger.RecognizedAsBill},
			}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ledger.Post(ctx, d, ch, e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPostRepeat measures the "already done" path: a retry of a posted entry.
func BenchmarkPostRepeat(b *testing.B) {
	d := dbtestNew(b)
	ch := ledger.DefaultChart()
	ctx := context.Background()
	if err := ledger.SyncChart(ctx, d, ch); err != nil {
		b.Fatal(err)
	}
	e := sale("invoice:bench:finalized", ledger.Date(2026, 11, 3), "100.00")
	if _, err := ledger.Post(ctx, d, ch, e); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if r, err := ledger.Post(ctx, d, ch, e); err != nil || r.Created {
			b.Fatal(err)
		}
	}
}
