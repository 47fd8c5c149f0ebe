package usage

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Aggregation says how a meter combines its events' values.
type Aggregation string

// The aggregations a meter may use.
const (
	Sum         Aggregation = "SUM"          // total of the value property
	Count       Aggregation = "COUNT"        // number of events; no value property
	Max         Aggregation = "MAX"          // largest value
	UniqueCount Aggregation = "UNIQUE_COUNT" // number of distinct values
	Latest      Aggregation = "LATEST"       // value of the most recent event (by time, then key)
)

// Meter turns events of one type into a metered quantity.
type Meter struct {
	Slug          string            `json:"slug" yaml:"slug"`
	EventType     string            `json:"event_type" yaml:"event_type"`
	Aggregation   Aggregation       `json:"aggregation" yaml:"aggregation"`
	ValueProperty string            `json:"value_property,omitempty" yaml:"value_property"` // JSON path into data, e.g. $.tokens
	GroupBy       map[string]string `json:"group_by,omitempty" yaml:"group_by"`             // group name -> JSON path into data
	Description   string            `json:"description,omitempty" yaml:"description"`

	value  Path
	groups []groupPath // sorted by name
}

type groupPath struct {
	name string
	path Path
}

var (
	slugRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	groupRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
)

// maxGroupBy bounds a meter's group-by properties.
const maxGroupBy = 10

// Validate checks the meter definition and compiles its paths; prefix names its place in the input
// (e.g. "meters[2]"), and every problem is returned.
func (m *Meter) Validate(prefix string) []Problem {
	var probs []Problem
	bad := func(field, reason string) {
		if prefix != "" {
			field = prefix + "." + field
		}
		probs = append(probs, Problem{Index: -1, Field: field, Reason: reason})
	}
	if !slugRE.MatchString(m.Slug) {
		bad("slug", "must be 1-63 characters of a-z, 0-9, '_' or '-', starting with a letter or digit")
	}
	if m.EventType == "" {
		bad("event_type", "is required")
	} else if len(m.EventType) > maxAttrLen {
		bad("event_type", fmt.Sprintf("is longer than %d bytes", maxAttrLen))
	}
	switch m.Aggregation {
	case Count:
		if m.ValueProperty != "" {
			bad("value_property", "must be empty for COUNT")
		}
	case Sum, Max, UniqueCount, Latest:
		if m.ValueProperty == "" {
			bad("value_property", fmt.Sprintf("is required for %s", m.Aggregation))
		} else if p, err := ParsePath(m.ValueProperty); err != nil {
			bad("value_property", err.Error())
		} else {
			m.value = p
		}
	case "":
		bad("aggregation", "is required: one of SUM, COUNT, MAX, UNIQUE_COUNT, LATEST")
	default:
		bad("aggregation", fmt.Sprintf("must be one of SUM, COUNT, MAX, UNIQUE_COUNT, LATEST, got %q", truncate(string(m.Aggregation))))
	}
	if len(m.GroupBy) > maxGroupBy {
		bad("group_by", fmt.Sprintf("has %d properties, at most %d allowed", len(m.GroupBy), maxGroupBy))
	}
	names := make([]string, 0, len(m.GroupBy))
	for name := range m.GroupBy {
		names = append(names, name)
	}
	sort.Strings(names)
	m.groups = m.groups[:0]
	for _, name := range names {
		if !groupRE.MatchString(name) {
			bad("group_by."+name, "name must be 1-63 characters of a-z, 0-9 or '_', starting with a letter")
			continue
		}
		p, err := ParsePath(m.GroupBy[name])
		if err != nil {
			bad("group_by."+name, err.Error())
			continue
		}
		m.groups = append(m.groups, groupPath{name: name, path: p})
	}
	return probs
}

// HasGroup reports whether name is one of the meter's group-by properties.
func (m *Meter) HasGroup(name string) bool {
	_, ok := m.GroupBy[name]
	return ok
}

// Same reports whether two meter definitions are identical (ignoring the description).
func (m *Meter) Same(o *Meter) bool {
	if m.Slug != o.Slug || m.EventType != o.EventType || m.Aggregation != o.Aggregation ||
		m.ValueProperty != o.ValueProperty || len(m.GroupBy) != len(o.GroupBy) {
		return false
	}
	for k, v := range m.GroupBy {
		if o.GroupBy[k] != v {
			return false
		}
	}
	return true
}

// MeterSet is an immutable index of meters by slug and by event type.
type MeterSet struct {
	bySlug map[string]*Meter
	byType map[string][]*Meter
}

// NewMeterSet indexes validated meters.
func NewMeterSet(ms []*Meter) *MeterSet {
	s := &MeterSet{bySlug: map[string]*Meter{}, byType: map[string][]*Meter{}}
	for _, m := range ms {
		s.bySlug[m.Slug] = m
		s.byType[m.EventType] = append(s.byType[m.EventType], m)
	}
	for _, l := range s.byType {
		sort.Slice(l, func(i, j int) bool { return l[i].Slug < l[j].Slug })
	}
	return s
}

// Get returns the meter with the slug, or nil.
func (s *MeterSet) Get(slug string) *Meter { return s.bySlug[slug] }

// ForType returns the meters that read events of the type.
func (s *MeterSet) ForType(t string) []*Meter { return s.byType[t] }

// All returns every meter sorted by slug.
func (s *MeterSet) All() []*Meter {
	out := make([]*Meter, 0, len(s.bySlug))
	for _, m := range s.bySlug {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Slug < out[j].Slug })
	return out
}

func joinProblems(ps []Problem) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Field + ": " + p.Reason
	}
	return strings.Join(parts, "; ")
}
