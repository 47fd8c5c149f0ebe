package usage

import (
	"errors"
	"testing"
	"time"
)

var fuzzMeters = func() *MeterSet {
	ms := []*Meter{
		{Slug: "tokens", EventType: "llm.tokens", Aggregation: Sum, ValueProperty: "$.usage.tokens", GroupBy: map[string]string{"model": "$.model"}},
		{Slug: "calls", EventType: "llm.tokens", Aggregation: Count},
		{Slug: "users", EventType: "api.call", Aggregation: UniqueCount, ValueProperty: "$.user"},
		{Slug: "seats", EventType: "seats", Aggregation: Latest, ValueProperty: "$.n"},
	}
	for _, m := range ms {
		if p := m.Validate(""); len(p) > 0 {
			panic(p)
		}
	}
	return NewMeterSet(ms)
}()

// FuzzDecodeEvents feeds arbitrary bodies to the batch and single-event decoders and the meter
// checks: they must never panic, every rejection must name a field and a reason, and an accepted
// event must carry every required attribute.
func FuzzDecodeEvents(f *testing.F) {
	f.Add([]byte(`[{"specversion":"1.0","id":"1","source":"s","type":"llm.tokens","subject":"c","time":"2026-10-05T10:00:00Z","data":{"usage":{"tokens":12},"model":"gpt"}}]`))
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"s","type":"api.call","subject":"c","time":"2026-10-05T10:00:00.123+02:00","data":{"user":"u"}}`))
	f.Add([]byte(`[{"specversion":1,"id":null,"time":"x","data":[1]},7,"s",{"data_base64":"AA=="}]`))
	f.Add([]byte(`[{"specversion":"1.0","id":"\u0000","source":"s","type":"seats","subject":"c","time":"2026-10-05T10:00:00Z","data":{"n":"1e400"}}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(events []Event, err error) {
			if err != nil {
				var inv *InvalidError
				if !errors.As(err, &inv) || len(inv.Problems) == 0 {
					t.Fatalf("error %v is not an InvalidError with problems", err)
				}
				for _, p := range inv.Problems {
					if p.Field == "" || p.Reason == "" {
						t.Fatalf("problem without field or reason: %+v", p)
					}
				}
				return
			}
			for i := range events {
				e := &events[i]
				if e.ID == "" || e.Source == "" || e.Type == "" || e.Subject == "" || e.Time.IsZero() || e.SpecVersion != "1.0" {
					t.Fatalf("accepted incomplete event %+v", e)
				}
				_, probs := measureEvent(i, e, fuzzMeters.ForType(e.Type), nil, nil, &measureScratch{})
				for _, p := range probs {
					if p.Field == "" || p.Reason == "" || p.Index != i {
						t.Fatalf("meter problem without field, reason or index: %+v", p)
					}
				}
				if k, h := oldHashes(e); e.Key() != k || e.ContentHash() != h {
					t.Fatalf("hashes of %+v changed", e)
				}
				_ = e.Time.Add(time.Hour)
			}
		}
		check(DecodeBatch(body))
		e, err := DecodeOne(body)
		check([]Event{e}, err)
	})
}
