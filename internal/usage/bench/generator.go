// Package bench is the load generator behind `revhub bench ingest`: realistic usage events sent
// to a running revhub API, throughput and latency figures, and an exact check of the stored totals.
package bench

import (
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/usage"
)

// Generator derives event i of a run deterministically from (seed, i), so the expected totals of
// any set of indexes can be recomputed after the run without keeping the events in memory.
type Generator struct {
	Run       string    // run id, part of every event id, subject, type and meter slug
	Seed      uint64    // randomness of the run
	Customers int       // distinct subjects
	Start     time.Time // the run's clock: event times are at or before it
	LateShare int       // per mille of events that are late (hours to days old)
}

// Sample is one generated event's meter-relevant content.
type Sample struct {
	Index    uint64
	Kind     int // 0 tokens, 1 gpu, 2 api call
	Subject  int
	Model    int
	Region   int
	Tokens   int64
	GPUMilli int64 // GPU-seconds in thousandths
	GPUs     int64
	User     int
	Time     time.Time
	Late     bool
}

var (
	models  = []string{"gpt-4o", "llama-3-70b", "claude-3", "mistral-large"}
	regions = []string{"eu-west", "us-east", "ap-south"}
)

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// At returns event i's content.
func (g *Generator) At(i uint64) Sample {
	r := splitmix(g.Seed ^ (i * 0x2545f4914f6cdd1d))
	s := Sample{Index: i, Subject: int(r % uint64(g.Customers))}
	r2 := splitmix(r)
	// Each customer runs in one region and mostly one of two models.
	s.Region = s.Subject % len(regions)
	s.Model = (s.Subject + int(r2%4)/3) % len(models)
	switch k := r2 % 10; {
	case k < 7:
		s.Kind = 0
		s.Tokens = int64(50 + (r2>>8)%4000)
	case k < 9:
		s.Kind = 1
		s.GPUMilli = int64((r2 >> 8) % 3_600_000)
		s.GPUs = int64(1 + (r2>>32)%8)
	default:
		s.Kind = 2
		s.User = int((r2 >> 8) % 50)
	}
	r3 := splitmix(r2)
	if int(r3%1000) < g.LateShare {
		s.Late = true
		s.Time = g.Start.Add(-time.Duration(3*3600+int64(r3>>10)%(17*24*3600)) * time.Second)
	} else {
		s.Time = g.Start.Add(-time.Duration(int64(r3>>10)%120_000) * time.Millisecond)
	}
	s.Time = s.Time.Truncate(time.Millisecond)
	return s
}

// EventType returns the run's event type of a kind.
func (g *Generator) EventType(kind int) string {
	return [...]string{"bench." + g.Run + ".tokens", "bench." + g.Run + ".gpu", "bench." + g.Run + ".call"}[kind]
}

// SubjectName returns the external id of customer n.
func (g *Generator) SubjectName(n int) string { return fmt.Sprintf("b%s-cus-%05d", g.Run, n) }

// Meters returns the run's meters: one per aggregation.
func (g *Generator) Meters() []*usage.Meter {
	p := "b" + g.Run + "-"
	return []*usage.Meter{
		{Slug: p + "tokens", EventType: g.EventType(0), Aggregation: usage.Sum, ValueProperty: "$.tokens", GroupBy: map[string]string{"model": "$.model", "region": "$.region"}},
		{Slug: p + "requests", EventType: g.EventType(0), Aggregation: usage.Count},
		{Slug: p + "gpu-seconds", EventType: g.EventType(1), Aggregation: usage.Sum, ValueProperty: "$.gpu_seconds", GroupBy: map[string]string{"region": "$.region"}},
		{Slug: p + "peak-gpus", EventType: g.EventType(1), Aggregation: usage.Max, ValueProperty: "$.gpus"},
		{Slug: p + "users", EventType: g.EventType(2), Aggregation: usage.UniqueCount, ValueProperty: "$.user"},
	}
}

// AppendJSON appends event i as a CloudEvents JSON object.
func (g *Generator) AppendJSON(b []byte, i uint64) []byte {
	s := g.At(i)
	b = append(b, `{"specversion":"1.0","id":"`...)
	b = append(b, g.Run...)
	b = append(b, '-')
	b = strconv.AppendUint(b, i, 10)
	b = append(b, `","source":"revhub-bench","type":"`...)
	b = append(b, g.EventType(s.Kind)...)
	b = append(b, `","subject":"`...)
	b = append(b, g.SubjectName(s.Subject)...)
	b = append(b, `","time":"`...)
	b = s.Time.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, `","datacontenttype":"application/json","data":{`...)
	switch s.Kind {
	case 0:
		b = append(b, `"tokens":`...)
		b = strconv.AppendInt(b, s.Tokens, 10)
		b = append(b, `,"model":"`...)
		b = append(b, models[s.Model]...)
		b = append(b, `","region":"`...)
		b = append(b, regions[s.Region]...)
		b = append(b, '"')
	case 1:
		b = append(b, `"gpu_seconds":`...)
		b = append(b, decimal.New(s.GPUMilli, -3).StringFixed(3)...)
		b = append(b, `,"gpus":`...)
		b = strconv.AppendInt(b, s.GPUs, 10)
		b = append(b, `,"region":"`...)
		b = append(b, regions[s.Region]...)
		b = append(b, '"')
	case 2:
		b = append(b, `"user":"u`...)
		b = strconv.AppendInt(b, int64(s.User), 10)
		b = append(b, '"')
	}
	return append(b, "}}"...)
}

// Expected is the exact meter totals of a set of events, per meter slug and subject.
type Expected map[string]map[string]decimal.Decimal

// Expect computes the totals of events [0, n) as the meter queries must return them.
func (g *Generator) Expect(n uint64) Expected {
	ms := g.Meters()
	tokens := make([]int64, g.Customers)
	requests := make([]int64, g.Customers)
	gpu := make([]int64, g.Customers)
	peak := make([]int64, g.Customers)
	users := make([]map[int]bool, g.Customers)
	seen := make([]bool, g.Customers*3)
	for i := range n {
		s := g.At(i)
		seen[s.Subject*3+s.Kind] = true
		switch s.Kind {
		case 0:
			tokens[s.Subject] += s.Tokens
			requests[s.Subject]++
		case 1:
			gpu[s.Subject] += s.GPUMilli
			peak[s.Subject] = max(peak[s.Subject], s.GPUs)
		case 2:
			if users[s.Subject] == nil {
				users[s.Subject] = map[int]bool{}
			}
			users[s.Subject][s.User] = true
		}
	}
	out := Expected{}
	for _, m := range ms {
		out[m.Slug] = map[string]decimal.Decimal{}
	}
	for c := range g.Customers {
		name := g.SubjectName(c)
		if seen[c*3] {
			out[ms[0].Slug][name] = decimal.NewFromInt(tokens[c])
			out[ms[1].Slug][name] = decimal.NewFromInt(requests[c])
		}
		if seen[c*3+1] {
			out[ms[2].Slug][name] = decimal.New(gpu[c], -3)
			out[ms[3].Slug][name] = decimal.NewFromInt(peak[c])
		}
		if seen[c*3+2] {
			out[ms[4].Slug][name] = decimal.NewFromInt(int64(len(users[c])))
		}
	}
	return out
}
