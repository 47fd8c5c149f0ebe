package invoice

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/revhub/revhub/internal/dbtest"
)

func BenchmarkRenderHTML(b *testing.B) {
	doc := renderedDocument()
	for b.Loop() {
		if err := RenderHTML(io.Discard, doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderPDF(b *testing.B) {
	doc := renderedDocument()
	for b.Loop() {
		if err := RenderPDF(io.Discard, doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateAndFinalize measures one billing-cycle invoice (three lines) drafted and numbered.
func BenchmarkCreateAndFinalize(b *testing.B) {
	ctx := context.Background()
	pool := dbtest.New(b).Pool
	d := sampleDraft()
	i := 0
	for b.Loop() {
		i++
		d.Key = fmt.Sprintf("bench:%d", i)
		inv, err := CreateDraft(ctx, pool, d)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Finalize(ctx, pool, inv.ID, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFinalizeParallel measures numbering throughput when every finalization of one billing
// entity queues on its counter row.
func BenchmarkFinalizeParallel(b *testing.B) {
	ctx := context.Background()
	pool := dbtest.New(b).Pool
	ids := make(chan string, b.N)
	for i := range b.N {
		inv, err := CreateDraft(ctx, pool, oneOff(fmt.Sprintf("bench:%d", i), "acme-us", "1.00"))
		if err != nil {
			b.Fatal(err)
		}
		ids <- inv.ID
	}
	close(ids)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := Finalize(ctx, pool, <-ids, t0); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
