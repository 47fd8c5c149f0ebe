package usage

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParseMeterFile feeds arbitrary YAML to the meters file parser: it must never panic, every
// problem names a path and a reason, and every accepted meter passes its own validation.
func FuzzParseMeterFile(f *testing.F) {
	f.Add([]byte("meters:\n  - slug: tokens\n    event_type: llm.tokens\n    aggregation: SUM\n    value_property: $.tokens\n    group_by: {model: $.model}\n"))
	f.Add([]byte("meters:\n  - slug: calls\n    event_type: api.call\n    aggregation: COUNT\n  - slug: calls\n    event_type: x\n    aggregation: MAX\n"))
	f.Add([]byte("meters:\n  - slug: Bad Slug\n    aggregation: UNIQUE_COUNT\n    value_property: tokens\n    colour: red\n"))
	f.Add([]byte("meters: &a [*a]\n"))
	f.Add([]byte("meters:\n  - {slug: s, event_type: e, aggregation: LATEST, value_property: \"$.a[0].b\"}\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, doc []byte) {
		meters, err := ParseMeterFile(bytes.NewReader(doc))
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
		seen := map[string]bool{}
		for i, m := range meters {
			if m == nil {
				t.Fatalf("meters[%d] is nil", i)
			}
			if p := m.Validate(""); len(p) > 0 {
				t.Fatalf("accepted meter %d fails validation: %v", i, p)
			}
			if seen[m.Slug] {
				t.Fatalf("slug %q accepted twice", m.Slug)
			}
			seen[m.Slug] = true
		}
	})
}
