package usage_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/usage"
)

func TestParseMeterFileReportsEveryProblem(t *testing.T) {
	_, err := usage.ParseMeterFile(strings.NewReader(`
meters:
  - slug: tokens
    event_type: llm.tokens
    aggregation: SUM
    value_property: $.tokens
  - slug: Bad Slug
    event_type: ""
    aggregation: AVG
  - slug: tokens
    event_type: x
    aggregation: COUNT
    value_property: $.n
    group_by: {Model: $.model, region: "$[0]"}
`))
	var inv *usage.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("err = %v", err)
	}
	var got []string
	for _, p := range inv.Problems {
		got = append(got, p.Field)
	}
	want := []string{"meters[1].slug", "meters[1].event_type", "meters[1].aggregation", "meters[2].value_property",
		"meters[2].group_by.Model", "meters[2].group_by.region", "meters[2].slug"}
	if !slices.Equal(got, want) {
		t.Fatalf("fields %v\nwant %v\n(%v)", got, want, err)
	}
	if _, err := usage.ParseMeterFile(strings.NewReader("meters:\n  - slug: a\n    colour: red\n")); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestLoadMeterFileIsIdempotentAndRefusesRedefinition(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "meters.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("meters:\n  - {slug: tokens, event_type: llm.tokens, aggregation: SUM, value_property: $.tokens, group_by: {model: $.model}}\n  - {slug: calls, event_type: api.call, aggregation: COUNT}\n")
	if n, err := usage.LoadMeterFile(ctx, d.Pool, path); err != nil || n != 2 {
		t.Fatalf("first load: %d, %v", n, err)
	}
	if n, err := usage.LoadMeterFile(ctx, d.Pool, path); err != nil || n != 0 {
		t.Fatalf("second load (already done): %d, %v", n, err)
	}
	write("meters:\n  - {slug: tokens, event_type: llm.tokens, aggregation: MAX, value_property: $.tokens}\n")
	if _, err := usage.LoadMeterFile(ctx, d.Pool, path); !errors.Is(err, usage.ErrMeterConflict) {
		t.Fatalf("redefinition: %v, want ErrMeterConflict", err)
	}
	m, err := usage.GetMeter(ctx, d.Pool, "tokens")
	if err != nil || m.Aggregation != usage.Sum || m.GroupBy["model"] != "$.model" {
		t.Fatalf("stored meter %+v, %v", m, err)
	}
}
