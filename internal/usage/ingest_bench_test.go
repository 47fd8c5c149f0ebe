package usage_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/usage"
	"github.com/revhub/revhub/internal/usage/bench"
)

func benchBatch(b *testing.B, n, round int) []usage.Event {
	b.Helper()
	evs := make([]usage.Event, n)
	models := []string{"gpt", "llama", "claude", "mistral"}
	for i := range evs {
		at := t0.Add(time.Duration(i%3600) * time.Second)
		evs[i] = tokens(fmt.Sprintf("r%d-e%d-0f7c2a9e", round, i), fmt.Sprintf("cus_%04d", i%1000), at, 100+i%900, models[i%4])
	}
	return evs
}

// BenchmarkDecodeBatch measures decoding and checking a 10,000-event CloudEvents batch.
func BenchmarkDecodeBatch(b *testing.B) {
	body := []byte("[")
	for i := range 10000 {
		if i > 0 {
			body = append(body, ',')
		}
		body = fmt.Appendf(body, `{"specversion":"1.0","id":"evt-%08d","source":"gateway-eu-1","type":"llm.tokens","subject":"cus_%04d","time":"2026-10-05T10:%02d:%02dZ","datacontenttype":"application/json","data":{"tokens":%d,"model":"gpt","region":"eu"}}`, i, i%1000, i%60, i%60, i)
	}
	body = append(body, ']')
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := usage.DecodeBatch(body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkIngest measures storing 10,000-event batches of new events, two batches in flight
// (PostgreSQL on this machine, shared with other tests while it runs).
func BenchmarkIngest(b *testing.B) {
	in, d := newIngester(b)
	ctx := context.Background()
	batches := make(chan []usage.Event, 4)
	round := 0
	go func() {
		for {
			round++
			batches <- benchBatch(b, 10000, round)
		}
	}()
	cpu0 := backendCPU(b, d)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := in.Ingest(ctx, <-batches, usage.IngestOptions{})
			if err != nil {
				b.Error(err)
				return
			}
			if res.Stored != 10000 {
				b.Errorf("stored %d of 10000", res.Stored)
			}
		}
	})
	b.StopTimer()
	if cpu := backendCPU(b, d) - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*10000), "pg-µs/event")
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRawCopy is the physical reference: PostgreSQL's COPY of the same 10,000-event batches
// straight into the events table (no dedup, no rollups), two streams like BenchmarkIngest.
func BenchmarkRawCopy(b *testing.B) {
	in, _ := newIngester(b)
	ctx := context.Background()
	if _, err := in.Pool().Exec(ctx, `SELECT usage_ensure_partition($1)`, t0); err != nil {
		b.Fatal(err)
	}
	cols := []string{"time", "key", "source", "id", "subject", "type", "data", "late"}
	batches := make(chan [][]any, 4)
	round := 0
	go func() {
		for {
			round++
			evs := benchBatch(b, 10000, round)
			rows := make([][]any, len(evs))
			for i := range evs {
				e := &evs[i]
				k := e.Key()
				rows[i] = []any{e.Time, [16]byte(k), e.Source, e.ID, e.Subject, e.Type, []byte(e.Data), false}
			}
			batches <- rows
		}
	}()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := in.Pool().CopyFrom(ctx, pgx.Identifier{"usage_events"}, cols, pgx.CopyFromRows(<-batches)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkIngestLoad is shaped like `revhub bench ingest`: 5,000-event batches over 1,000
// customers and five meters of three event types, 2% of each batch repeating earlier events, 5%
// of events hours to days old, four batches in flight (one op is one batch).
// events/s counts distinct events.
func BenchmarkIngestLoad(b *testing.B) {
	d := dbtest.New(b)
	ctx := context.Background()
	g := &bench.Generator{Run: "bl", Seed: 7, Customers: 1000, Start: time.Now().UTC().Truncate(time.Millisecond), LateShare: 50}
	in, err := usage.NewIngester(ctx, d.Pool, usage.IngesterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(in.Close)
	for _, m := range g.Meters() {
		if _, err := in.CreateMeter(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	const size, fresh = 5000, 4900
	batches := make([][]usage.Event, b.N)
	var body []byte
	for k := range batches {
		body = append(body[:0], '[')
		for j := range size {
			i := uint64(k*fresh + j)
			if j >= fresh { // a repeat of an event of a batch at least four before
				i = uint64(k*fresh+j) * 2654435761 % uint64(max(1, k-4)*fresh)
			}
			if j > 0 {
				body = append(body, ',')
			}
			body = g.AppendJSON(body, i)
		}
		body = append(body, ']')
		if batches[k], err = usage.DecodeBatch(body); err != nil {
			b.Fatal(err)
		}
	}
	next := make(chan []usage.Event, len(batches))
	for _, evs := range batches {
		next <- evs
	}
	close(next)
	var wg sync.WaitGroup
	cpu0, own0 := backendCPU(b, d), processCPU(b)
	b.ResetTimer()
	for range 4 {
		wg.Go(func() {
			for evs := range next {
				res, err := in.Ingest(ctx, evs, usage.IngestOptions{})
				if err != nil {
					b.Error(err)
					return
				}
				if len(res.Conflicts) > 0 {
					b.Errorf("%d conflicts", len(res.Conflicts))
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if cpu := backendCPU(b, d) - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*fresh), "pg-µs/event")
	}
	b.ReportMetric(float64((processCPU(b)-own0).Microseconds())/float64(b.N*fresh), "go-µs/event")
	if n := count(b, d, `SELECT count(*) FROM usage_events`); n != b.N*fresh {
		b.Fatalf("%d events stored, want %d", n, b.N*fresh)
	}
	b.ReportMetric(float64(b.N*fresh)/b.Elapsed().Seconds(), "events/s")
}

// processCPU is the CPU time (user and system) this process used so far: in BenchmarkIngestLoad,
// whose batches are decoded before the timer starts, the ingester's share of the API's work.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendCPU sums the CPU time of the PostgreSQL backends connected to the test database, read
// from /proc/<pid>/schedstat (a local server); 0 when it cannot be read.
func backendCPU(b *testing.B, d *dbtest.DB) time.Duration {
	b.Helper()
	rows, err := d.Pool.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`)
	if err != nil {
		b.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
		if err != nil {
			return 0
		}
		ns, err := strconv.ParseInt(strings.Fields(string(stat))[0], 10, 64) // time on a CPU
		if err != nil {
			return 0
		}
		total += time.Duration(ns)
	}
	return total
}
