package activities_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/mappings"
)

// BenchmarkPostBatch measures one PostBatch of 200 entries against the fake NetSuite over HTTP
// (TBA signing and verification, 4 upserts in flight) and PostgreSQL; entries/s is the sync's
// throughput per activity.
func BenchmarkPostBatch(b *testing.B) {
	ctx := context.Background()
	e := newERPEnv(b, mappings.NetSuiteOneToOne)
	const batch = 200
	n := 0
	for b.Loop() {
		b.StopTimer()
		for range batch {
			n++
			en, err := ledger.InvoiceFinalized(e.chart, ledger.Invoice{ID: fmt.Sprintf("bench_%d", n), Party: ledger.Party{Entity: "us", Customer: "cus_1"},
				Date: ledger.Date(2026, 11, 1+n%28), Currency: "USD", Lines: []ledger.InvoiceLine{
					{Product: "platform", Amount: decimal.NewFromInt(int64(n)), Treatment: ledger.BilledInAdvance},
					{Product: "usage", Amount: decimal.RequireFromString("1.25"), Treatment: ledger.RecognizedAsBill}}})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ledger.Post(ctx, e.deps.Pool, e.chart, en); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		out, err := e.erp.PostBatch(ctx, activities.PostBatchInput{Entity: "us", Limit: batch})
		if err != nil || out.Posted != batch {
			b.Fatalf("%+v %v", out, err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
}
