// Package simulate rates contract documents against a file of metered quantities or raw events, prints the
// invoice as a table or JSON, and re-rates a period under a proposed contract to show the difference.
package simulate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/rating"
)

// LoadContract reads a contract document: a single version, or a contract with a versions list.
func LoadContract(path string) (contract.Contract, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return contract.Contract{}, fmt.Errorf("read contract: %w", err)
	}
	f := contract.FormatOf(path, data)
	var probe map[string]yaml.Node
	if err := yaml.Unmarshal(data, &probe); err != nil {
		return contract.Contract{}, fmt.Errorf("contract %s: malformed document: %w", path, err)
	}
	if _, ok := probe["versions"]; ok {
		c, err := contract.ParseContract(data, f)
		if err != nil {
			return contract.Contract{}, fmt.Errorf("contract %s: %w", path, err)
		}
		return c, nil
	}
	v, err := contract.ParseVersion(data, f)
	if err != nil {
		return contract.Contract{}, fmt.Errorf("contract %s: %w", path, err)
	}
	return contract.Contract{ID: v.ContractID, Versions: []contract.Version{v}}, nil
}

// usageDoc is a usage file: either one customer's usage at the top level, or usage per customer external id.
type usageDoc struct {
	rating.Usage
	Customers map[string]rating.Usage `json:"customers,omitempty"`
}

// Event is one raw usage event, as sent to the ingestion API.
type Event struct {
	ID         string            `json:"id"`
	Customer   string            `json:"customer,omitempty"`
	Meter      string            `json:"meter"`
	Timestamp  time.Time         `json:"timestamp"`
	Value      decimal.Decimal   `json:"value"`
	Properties map[string]string `json:"properties,omitempty"`
}

// LoadUsage reads a usage file and returns the usage per customer external id. A usage document (JSON or YAML)
// holds quantities, transactions, seat changes, credit balances and late usage, at the top level for a single
// customer or under "customers"; a .ndjson/.jsonl file holds raw events, one per line, which are deduplicated by
// id and rolled up per meter, group and day (events on a meter priced by a percentage component become transactions).
func LoadUsage(path string, contracts []contract.Contract) (map[string]rating.Usage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read usage: %w", err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ndjson", ".jsonl":
		events, err := decodeEvents(data)
		if err != nil {
			return nil, fmt.Errorf("usage %s: %w", path, err)
		}
		return rollUp(events, contracts)
	}
	js := data
	if contract.FormatOf(path, data) == contract.YAML {
		if js, err = yamlToJSON(data); err != nil {
			return nil, fmt.Errorf("usage %s: %w", path, err)
		}
	}
	var doc usageDoc
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("usage %s: malformed document: %w", path, err)
	}
	out := map[string]rating.Usage{}
	for k, u := range doc.Customers {
		out[k] = u
	}
	top := doc.Usage
	if top.Quantities != nil || top.Transactions != nil || top.Seats != nil || top.Credits != nil || top.Late != nil {
		if len(contracts) != 1 {
			return nil, fmt.Errorf("usage %s: top-level usage needs exactly one contract (got %d); list usage under customers", path, len(contracts))
		}
		out[customerOf(contracts[0])] = top
	}
	return out, nil
}

func customerOf(c contract.Contract) string {
	vs := c.Sorted()
	if len(vs) == 0 {
		return ""
	}
	return vs[0].Customer.ExternalID
}

func decodeEvents(data []byte) ([]Event, error) {
	var out []Event
	var problems []string
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var e Event
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %v", i+1, err))
			continue
		}
		var missing []string
		if e.ID == "" {
			missing = append(missing, "id")
		}
		if e.Meter == "" {
			missing = append(missing, "meter")
		}
		if e.Timestamp.IsZero() {
			missing = append(missing, "timestamp")
		}
		if len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("line %d: %s required", i+1, strings.Join(missing, ", ")))
			continue
		}
		out = append(out, e)
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return out, nil
}

type rollKey struct {
	customer, meter, group string
	day                    contract.Date
}

// rollUp turns raw events into usage per customer: deduplicated by id, grouped by the meter's group_by property.
func rollUp(events []Event, contracts []contract.Contract) (map[string]rating.Usage, error) {
	byCustomer := map[string]*contract.Contract{}
	for i := range contracts {
		byCustomer[customerOf(contracts[i])] = &contracts[i]
	}
	seen := map[string]bool{}
	sums := map[rollKey]decimal.Decimal{}
	var keys []rollKey
	out := map[string]rating.Usage{}
	for i, e := range events {
		if seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		cust := e.Customer
		if cust == "" && len(contracts) == 1 {
			cust = customerOf(contracts[0])
		}
		c, ok := byCustomer[cust]
		if !ok {
			return nil, fmt.Errorf("event %d (%s): customer %q has no contract in this simulation", i, e.ID, cust)
		}
		meter, percent := meterOf(c, e.Meter)
		if meter == nil {
			return nil, fmt.Errorf("event %d (%s): meter %q is not declared by contract %s", i, e.ID, e.Meter, c.ID)
		}
		group := ""
		if meter.GroupBy != "" {
			group = e.Properties[meter.GroupBy]
		}
		day := contract.DateOf(e.Timestamp)
		if percent {
			u := out[cust]
			u.Transactions = append(u.Transactions, rating.Transaction{ID: e.ID, Meter: e.Meter, Group: group, Date: day, Amount: e.Value})
			out[cust] = u
			continue
		}
		k := rollKey{cust, e.Meter, group, day}
		if _, ok := sums[k]; !ok {
			keys = append(keys, k)
		}
		sums[k] = sums[k].Add(e.Value)
	}
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.customer != b.customer {
			return a.customer < b.customer
		}
		if a.meter != b.meter {
			return a.meter < b.meter
		}
		if a.group != b.group {
			return a.group < b.group
		}
		return a.day.Before(b.day)
	})
	for _, k := range keys {
		u := out[k.customer]
		u.Quantities = append(u.Quantities, rating.Quantity{Meter: k.meter, Group: k.group, Date: k.day, Value: sums[k]})
		out[k.customer] = u
	}
	return out, nil
}

// meterOf finds a meter declared by any version and whether a percentage component prices it.
func meterOf(c *contract.Contract, id string) (*contract.Meter, bool) {
	var found *contract.Meter
	percent := false
	for i := range c.Versions {
		v := &c.Versions[i]
		if m, ok := v.MeterByID(id); ok && found == nil {
			found = &m
		}
		for _, comp := range v.Components {
			if comp.Meter == id && comp.Model == contract.Percentage {
				percent = true
			}
		}
	}
	return found, percent
}

// yamlToJSON converts a YAML document to JSON, keeping every scalar's text exactly (no float conversion),
// so amounts and quantities reach the decimal decoder unchanged.
func yamlToJSON(data []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("malformed YAML: %w", err)
	}
	var b bytes.Buffer
	if len(n.Content) == 0 {
		return []byte("{}"), nil
	}
	if err := writeJSON(&b, n.Content[0]); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		return writeJSON(b, n.Content[0])
	case yaml.AliasNode:
		return writeJSON(b, n.Alias)
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(n.Content[i].Value)
			b.Write(k)
			b.WriteByte(':')
			if err := writeJSON(b, n.Content[i+1]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			if json.Valid([]byte(n.Value)) {
				b.WriteString(n.Value)
				return nil
			}
		case "!!bool":
			if n.Value == "true" || n.Value == "false" {
				b.WriteString(n.Value)
				return nil
			}
		case "!!null":
			b.WriteString("null")
			return nil
		}
		s, _ := json.Marshal(n.Value)
		b.Write(s)
	default:
		return fmt.Errorf("line %d: unsupported YAML node", n.Line)
	}
	return nil
}
