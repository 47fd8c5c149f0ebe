package fake

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"os"
)

// Fixture is the seed data of a fake org, as stored in fixtures/seed.json.
type Fixture struct {
	// WonStages and LostStages name the closing stages (defaults "Closed Won" and "Closed Lost").
	WonStages  []string `json:"won_stages,omitempty"`
	LostStages []string `json:"lost_stages,omitempty"`
	// Records holds records by sObject type; each may carry a fixed 18-character "Id".
	Records map[string][]map[string]any `json:"records"`
}

//go:embed fixtures/seed.json
var defaultSeed []byte

// seedOrder creates parents before children.
var seedOrder = []string{"Account", "Product2", "Contract", "Opportunity", "OpportunityLineItem"}

// DefaultFixture returns the demo org: deals for every price model, USD and EUR, two billing entities
// and one deliberately broken deal.
func DefaultFixture() Fixture {
	f, err := ParseFixture(defaultSeed)
	if err != nil {
		panic(fmt.Sprintf("embedded salesforce seed: %v", err))
	}
	return f
}

// ParseFixture decodes a fixture, keeping numbers exact.
func ParseFixture(data []byte) (Fixture, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var f Fixture
	if err := dec.Decode(&f); err != nil {
		return Fixture{}, fmt.Errorf("salesforce fixture: %w", err)
	}
	for typ := range f.Records {
		if !containsString(seedOrder, typ) {
			return Fixture{}, fmt.Errorf("salesforce fixture: records.%s: unsupported sObject type", typ)
		}
	}
	return f, nil
}

// LoadFixture reads a fixture file.
func LoadFixture(path string) (Fixture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Fixture{}, fmt.Errorf("salesforce fixture: %w", err)
	}
	return ParseFixture(data)
}

// Seed adds the fixture's records to the org, naming the record and field of any problem.
// A single-currency org ignores the fixture's CurrencyIsoCode values.
func (s *Server) Seed(f Fixture) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(f.WonStages) > 0 {
		s.st.wonStages = f.WonStages
	}
	if len(f.LostStages) > 0 {
		s.st.lostStages = f.LostStages
	}
	for _, typ := range seedOrder {
		for i, rec := range f.Records[typ] {
			if !s.st.multi {
				rec = maps.Clone(rec)
				delete(rec, currencyField)
			}
			if _, err := s.create(typ, rec); err != nil {
				return fmt.Errorf("salesforce fixture: records.%s[%d]: %w", typ, i, err)
			}
		}
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// NewDemo returns a fake org seeded with DefaultFixture, as `revhub dev` serves it.
func NewDemo(opts Options) (*Server, error) {
	s := New(opts)
	if err := s.Seed(DefaultFixture()); err != nil {
		return nil, err
	}
	return s, nil
}
