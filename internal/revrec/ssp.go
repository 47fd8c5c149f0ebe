package revrec

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/revhub/revhub/internal/money"
)

//go:embed ssp_default.yaml
var defaultSSPYAML []byte

// SSPUnit is what one SSP table price buys.
type SSPUnit string

// The SSP units.
const (
	PerYear  SSPUnit = "year"  // one unit for a year of service, prorated by months of the service period
	PerMonth SSPUnit = "month" // one unit for a month of service
	PerUnit  SSPUnit = "unit"  // one unit, regardless of time (services, setup, usage rates)
)

// SSPEntry is the standalone selling price of one product and how it is recognized.
type SSPEntry struct {
	Kind    Kind                               // the obligation kind the product is
	Pattern Pattern                            // recognition pattern; empty means the kind's default
	Per     SSPUnit                            // what one price buys
	Basis   string                             // the evidence for the price (observable price, cost plus margin, ...)
	Prices  map[money.Currency]decimal.Decimal // price per currency
}

// SSPTable is the SSP per product code (stored lower-case).
type SSPTable struct {
	Products map[string]SSPEntry
}

type sspFile struct {
	Products map[string]struct {
		Kind    string            `yaml:"kind"`
		Pattern string            `yaml:"pattern"`
		Per     string            `yaml:"per"`
		Basis   string            `yaml:"basis"`
		Prices  map[string]string `yaml:"prices"`
	} `yaml:"products"`
}

// DefaultSSPTable returns the SSP table shipped with revhub (ssp_default.yaml).
func DefaultSSPTable() *SSPTable {
	t, err := LoadSSPTable(bytes.NewReader(defaultSSPYAML))
	if err != nil {
		panic(fmt.Sprintf("revrec: embedded ssp_default.yaml: %v", err))
	}
	return t
}

// LoadSSPTable reads an SSP table in the YAML format of docs/revenue-recognition.md, reporting every problem at once.
func LoadSSPTable(r io.Reader) (*SSPTable, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var f sspFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("ssp table: %w", err)
	}
	var ps problems
	if len(f.Products) == 0 {
		ps.add("products", "at least one product is required")
	}
	t := &SSPTable{Products: make(map[string]SSPEntry, len(f.Products))}
	for _, code := range sortedKeys(f.Products) {
		p := f.Products[code]
		path := "products." + code
		e := SSPEntry{Kind: Kind(p.Kind), Pattern: Pattern(p.Pattern), Per: SSPUnit(p.Per), Basis: p.Basis,
			Prices: make(map[money.Currency]decimal.Decimal, len(p.Prices))}
		if !e.Kind.Valid() {
			ps.add(path+".kind", fmt.Sprintf("%q is not one of platform, seats, usage, services, setup", p.Kind))
		}
		if e.Pattern != "" && !e.Pattern.Valid() {
			ps.add(path+".pattern", fmt.Sprintf("%q is not one of ratable, consumption, point_in_time", p.Pattern))
		}
		switch e.Per {
		case PerYear, PerMonth, PerUnit:
		default:
			ps.add(path+".per", fmt.Sprintf("%q is not one of year, month, unit", p.Per))
		}
		if e.Basis == "" {
			ps.add(path+".basis", "the evidence for the price is required")
		}
		if len(p.Prices) == 0 {
			ps.add(path+".prices", "at least one currency price is required")
		}
		for _, c := range sortedKeys(p.Prices) {
			cur, err := money.ParseCurrency(c)
			if err != nil {
				ps.add(path+".prices."+c, err.Error())
				continue
			}
			v, err := decimal.NewFromString(p.Prices[c])
			if err != nil {
				ps.add(path+".prices."+c, fmt.Sprintf("%q is not a decimal number", p.Prices[c]))
				continue
			}
			if !v.IsPositive() {
				ps.add(path+".prices."+c, "must be positive")
				continue
			}
			e.Prices[cur] = v
		}
		if _, dup := t.Products[strings.ToLower(code)]; dup {
			ps.add(path, "product codes are case-insensitive: another product differs only in case")
		}
		t.Products[strings.ToLower(code)] = e
	}
	if err := ps.err("ssp table"); err != nil {
		return nil, err
	}
	return t, nil
}

// ErrNoSSP means the SSP table has no price for a product in a currency.
var ErrNoSSP = errors.New("no standalone selling price")

// Entry returns the table entry of a product; product codes are case-insensitive.
func (t *SSPTable) Entry(product string) (SSPEntry, bool) {
	if t == nil {
		return SSPEntry{}, false
	}
	e, ok := t.Products[strings.ToLower(product)]
	return e, ok
}

// SSP returns the standalone selling price of a whole obligation: the obligation's own SSP when set,
// else the table price times quantity times the service period in the table's unit.
func (t *SSPTable) SSP(o Obligation, cur money.Currency) (decimal.Decimal, error) {
	if !o.SSP.IsZero() {
		return o.SSP, nil
	}
	e, ok := t.Entry(o.Product)
	if !ok {
		return decimal.Zero, fmt.Errorf("product %q: %w: not in the SSP table", o.Product, ErrNoSSP)
	}
	price, ok := e.Prices[cur]
	if !ok {
		return decimal.Zero, fmt.Errorf("product %q: %w in %s", o.Product, ErrNoSSP, cur)
	}
	v := price.Mul(o.quantity())
	switch e.Per {
	case PerYear:
		v = v.Mul(monthsIn(o.Start, o.End)).Div(decimal.NewFromInt(12))
	case PerMonth:
		v = v.Mul(monthsIn(o.Start, o.End))
	}
	return v, nil
}

// monthsIn measures [start, end) in months: whole calendar-month steps from start (31 January + 1 month
// is 28 February), plus the remaining days as a fraction of the month that follows them.
func monthsIn(start, end time.Time) decimal.Decimal {
	start, end = dateOf(start), dateOf(end)
	n := 0
	for !addMonths(start, n+1).After(end) {
		n++
	}
	from := addMonths(start, n)
	rest := daysBetween(from, end)
	if rest == 0 {
		return decimal.NewFromInt(int64(n))
	}
	span := daysBetween(from, addMonths(start, n+1))
	return decimal.NewFromInt(int64(n)).Add(decimal.NewFromInt(rest).DivRound(decimal.NewFromInt(span), 12))
}

// addMonths adds n calendar months, clamping the day to the end of the target month.
func addMonths(t time.Time, n int) time.Time {
	y, m, dd := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	if last := first.AddDate(0, 1, -1).Day(); dd > last {
		dd = last
	}
	return time.Date(first.Year(), first.Month(), dd, 0, 0, 0, 0, time.UTC)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
