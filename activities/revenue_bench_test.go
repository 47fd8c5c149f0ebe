package activities_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/internal/invoice"
	"github.com/revhub/revhub/internal/ledger"
)

// BenchmarkRecognizeMonth measures an entity's month-end run over 50 contracts with twelve monthly invoices
// each (a platform fee in advance and last month's usage): the first run of December (schedules computed
// and saved, 12 months of entries posted per contract) is reported once as first-run-ms, and each
// iteration is the rerun, which finds everything already done.
func BenchmarkRecognizeMonth(b *testing.B) {
	ctx := context.Background()
	d, ch := newChartDB(b)
	const contracts = 50
	for c := range contracts {
		id := fmt.Sprintf("ctr_b%03d", c)
		createContracts(b, d.Pool, strings.NewReplacer("ctr_rev", id, "cus_rev", "cus_"+id).Replace(revenueContract))
		for m := 1; m <= 12; m++ {
			start := invoice.DateOf(time.Date(2026, time.Month(m), 1, 0, 0, 0, 0, time.UTC))
			end := invoice.DateOf(start.Time().AddDate(0, 1, 0))
			lines := []invoice.Line{{Kind: "recurring", ComponentID: "platform", Product: "platform", Description: "Platform",
				Quantity: dec("1"), Amount: dec("1000.00")}}
			treatments := []ledger.Treatment{ledger.BilledInAdvance}
			if m > 1 {
				lines = append(lines, invoice.Line{Kind: "usage", ComponentID: "api", Product: "api_calls", Description: "API calls",
					Quantity: dec("12345"), Amount: dec("123.45"), PeriodStart: invoice.DateOf(start.Time().AddDate(0, -1, 0)), PeriodEnd: start})
				treatments = append(treatments, ledger.UsageRecognized)
			}
			draft, err := invoice.CreateDraft(ctx, d.Pool, invoice.Draft{Key: fmt.Sprintf("%s:%d", id, m), Kind: invoice.KindCycle,
				ContractID: id, ContractVersion: 1, CustomerID: "cus_" + id, BillingEntity: "revhub-us", Currency: "USD",
				PeriodStart: start, PeriodEnd: end, PaymentTermsDays: 30, Lines: lines})
			if err != nil {
				b.Fatal(err)
			}
			inv, err := invoice.Finalize(ctx, d.Pool, draft.ID, start.Time())
			if err != nil {
				b.Fatal(err)
			}
			li := ledger.Invoice{ID: inv.ID, Party: ledger.Party{Entity: "revhub-us", Customer: "cus_" + id, Contract: id},
				Date: start.Time(), Currency: "USD"}
			for i, l := range inv.Lines {
				li.Lines = append(li.Lines, ledger.InvoiceLine{Product: l.Product, Amount: l.Amount, Treatment: treatments[i]})
			}
			e, err := ledger.InvoiceFinalized(ch, li)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ledger.Post(ctx, d.Pool, ch, e); err != nil {
				b.Fatal(err)
			}
		}
	}
	rev := activities.New(activities.Deps{Pool: d.Pool, Chart: ch, Log: slog.New(slog.DiscardHandler)}).Revenue
	in := activities.RecognizeInput{Entity: "revhub-us", Month: "2026-12"}
	start := time.Now()
	out, err := rev.RecognizeMonth(ctx, in)
	if err != nil || out.Arrangements != contracts || out.EntriesPosted == 0 {
		b.Fatalf("first run: %v %+v", err, out)
	}
	first := time.Since(start)
	b.ResetTimer()
	for b.Loop() {
		out, err := rev.RecognizeMonth(ctx, in)
		if err != nil || out.EntriesPosted != 0 {
			b.Fatalf("rerun: %v %+v", err, out)
		}
	}
	b.ReportMetric(float64(first.Milliseconds()), "first-run-ms")
}
