package usage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/revhub/revhub/internal/db"
)

// MeterFile is the YAML file of meters loaded at start:
//
//	meters:
//	  - slug: tokens
//	    event_type: llm.tokens
//	    aggregation: SUM
//	    value_property: $.tokens
//	    group_by: {model: $.model, region: $.region}
type MeterFile struct {
	Meters []*Meter `yaml:"meters"`
}

// ParseMeterFile decodes and validates a meters YAML document, refusing unknown keys and
// reporting every problem with its path (e.g. meters[2].aggregation).
func ParseMeterFile(r io.Reader) ([]*Meter, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var f MeterFile
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, &InvalidError{Problems: []Problem{{Index: -1, Field: "meters", Reason: err.Error()}}}
	}
	var probs []Problem
	seen := map[string]int{}
	for i, m := range f.Meters {
		prefix := fmt.Sprintf("meters[%d]", i)
		if m == nil {
			probs = append(probs, Problem{Index: -1, Field: prefix, Reason: "is empty"})
			continue
		}
		probs = append(probs, m.Validate(prefix)...)
		if j, dup := seen[m.Slug]; dup && m.Slug != "" {
			probs = append(probs, Problem{Index: -1, Field: prefix + ".slug", Reason: fmt.Sprintf("%q is also meters[%d]", m.Slug, j)})
		}
		seen[m.Slug] = i
	}
	if len(probs) > 0 {
		return nil, &InvalidError{Problems: probs}
	}
	return f.Meters, nil
}

// LoadMeterFile reads a meters YAML file and stores every meter in it: new ones are created,
// identical ones left alone, and a meter whose stored definition differs is an error.
func LoadMeterFile(ctx context.Context, q db.Querier, path string) (created int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("meters file: %w", err)
	}
	ms, err := ParseMeterFile(bytes.NewReader(b))
	if err != nil {
		return 0, fmt.Errorf("meters file %s: %w", path, err)
	}
	for i, m := range ms {
		ok, err := InsertMeter(ctx, q, m)
		if err != nil {
			return created, fmt.Errorf("meters file %s: meters[%d]: %w", path, i, err)
		}
		if ok {
			created++
		}
	}
	return created, nil
}
