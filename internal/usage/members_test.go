package usage

import "testing"

// A member named twice counts with its last value, as PostgreSQL's jsonb keeps it (so that the
// rollups agree with Readings, which reads the stored data), at the top level and below.
func TestMeasureDuplicateMembersLastWins(t *testing.T) {
	sum := &Meter{Slug: "tokens", EventType: "t", Aggregation: Sum, ValueProperty: "$.usage.n", GroupBy: map[string]string{"model": "$.model"}}
	top := &Meter{Slug: "calls", EventType: "t", Aggregation: Latest, ValueProperty: "$.v"}
	for _, m := range []*Meter{sum, top} {
		if p := m.Validate(""); len(p) > 0 {
			t.Fatal(p)
		}
	}
	for _, data := range []string{
		`{"v":1,"usage":{"n":1,"n":2},"model":"a","model":"b","v":2}`,
		`{"v":1,"usage":{"n":1,"n":2},"model":"a","model":"b","v":2,"k\u0065y":0}`, // an escaped key: the slow path
	} {
		e := &Event{Type: "t", Data: []byte(data)}
		out, probs := measureEvent(0, e, []*Meter{sum, top}, nil, nil, &measureScratch{})
		if len(probs) > 0 || len(out) != 2 {
			t.Fatalf("%s: measures %+v, problems %+v", data, out, probs)
		}
		if got := out[0].value.String(); got != "2" {
			t.Errorf("%s: $.usage.n = %s, want 2", data, got)
		}
		if got := out[0].groups; got != `{"model":"b"}` {
			t.Errorf("%s: groups = %s, want {\"model\":\"b\"}", data, got)
		}
		if got := out[1].value.String(); got != "2" {
			t.Errorf("%s: $.v = %s, want 2", data, got)
		}
	}
}
