// Package mappings holds pure functions between outside systems' shapes and revhub's.
package mappings

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/revhub/revhub/connectors/netsuite"
	"github.com/revhub/revhub/internal/ledger"
)

// NetSuiteMode says how ledger entries become NetSuite journal entries.
type NetSuiteMode string

// The posting modes.
const (
	NetSuiteOneToOne   NetSuiteMode = "one_to_one" // one journal entry per ledger entry, external id from its key
	NetSuiteSummarized NetSuiteMode = "summarized" // one per entity, currency and day, lines netted per account and dimension
)

// NetSuiteConfig maps the ledger onto a NetSuite account; every id is a NetSuite internal id.
// Products pick department and class; the key "*" is the fallback for products not listed.
type NetSuiteConfig struct {
	Mode         NetSuiteMode      `yaml:"mode"`
	Accounts     map[string]string `yaml:"accounts"`     // ledger account code -> account id (every account used)
	Subsidiaries map[string]string `yaml:"subsidiaries"` // ledger entity -> subsidiary id
	Currencies   map[string]string `yaml:"currencies"`   // ISO 4217 code -> currency id
	Departments  map[string]string `yaml:"departments"`  // product -> department id (optional)
	Classes      map[string]string `yaml:"classes"`      // product -> class id (optional)
	Customers    map[string]string `yaml:"customers"`    // revhub customer -> customer (entity) id (optional)
	// SummaryKeepsCustomer keeps the customer as a grouping dimension in summarized mode.
	SummaryKeepsCustomer bool `yaml:"summary_keeps_customer"`
}

// ParseNetSuiteConfig reads the YAML mapping configuration (see docs/netsuite.md) and validates it.
func ParseNetSuiteConfig(b []byte) (*NetSuiteConfig, error) {
	var c NetSuiteConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("netsuite mapping: %w", err)
	}
	if err := c.Validate(nil); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks the mode and ids, and when chart is given that every chart account is mapped.
func (c *NetSuiteConfig) Validate(chart *ledger.Chart) error {
	var probs []string
	add := func(f, format string, args ...any) { probs = append(probs, f+": "+fmt.Sprintf(format, args...)) }
	if c.Mode != NetSuiteOneToOne && c.Mode != NetSuiteSummarized {
		add("mode", "%q is not one_to_one or summarized", c.Mode)
	}
	for name, m := range map[string]map[string]string{"accounts": c.Accounts, "subsidiaries": c.Subsidiaries, "currencies": c.Currencies} {
		if len(m) == 0 {
			add(name, "at least one mapping is required")
		}
	}
	for name, m := range map[string]map[string]string{"accounts": c.Accounts, "subsidiaries": c.Subsidiaries, "currencies": c.Currencies,
		"departments": c.Departments, "classes": c.Classes, "customers": c.Customers} {
		for _, k := range nsSortedKeys(m) {
			if !nsIsDigits(m[k]) {
				add(name+"."+k, "%q is not a NetSuite internal id", m[k])
			}
		}
	}
	if chart != nil {
		for i, a := range chart.Accounts {
			if _, ok := c.Accounts[a.Code]; !ok {
				add(fmt.Sprintf("accounts.%s", a.Code), "chart account %d (%s) has no NetSuite account", i, a.Name)
			}
		}
	}
	sort.Strings(probs)
	if len(probs) > 0 {
		return fmt.Errorf("netsuite mapping: %s", strings.Join(probs, "; "))
	}
	return nil
}

func nsIsDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ErrUnmappableEntry marks a ledger entry the configuration cannot express in NetSuite (a permanent error).
var ErrUnmappableEntry = errors.New("UnmappableEntry")

// NetSuiteJournal is one journal entry to upsert and the ledger entries it carries.
type NetSuiteJournal struct {
	ExternalID string
	EntryKeys  []string
	Payload    netsuite.JournalEntry
}

// Empty reports a summary whose entries cancel out: nothing to upsert (delete an earlier one if
// it exists), but its entries still count as posted.
func (j NetSuiteJournal) Empty() bool { return len(j.Payload.Line.Items) == 0 }

// NetSuiteJournals maps ledger entries to journal entry payloads in the configured mode; every
// payload balances. In summarized mode pass every entry of the days concerned: a day's summary is
// recomputed from all of them and replaces the earlier one under the same external id.
func NetSuiteJournals(c *NetSuiteConfig, entries []ledger.Entry) ([]NetSuiteJournal, error) {
	var errs []error
	for _, e := range entries {
		if err := c.check(e); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if c.Mode == NetSuiteSummarized {
		return c.summarize(entries), nil
	}
	out := make([]NetSuiteJournal, 0, len(entries))
	for _, e := range entries {
		ext := netsuite.ExternalID(e.Key)
		je := netsuite.JournalEntry{ExternalID: ext, Subsidiary: netsuite.RefTo(c.Subsidiaries[e.Entity]),
			Currency: netsuite.RefTo(c.Currencies[string(e.Postings[0].Currency)]), TranDate: e.Date.Format(time.DateOnly),
			Memo: nsMemo(e)}
		for _, p := range e.Postings {
			l := c.line(p.Account, p.Signed(), p.Product, p.Customer)
			l.Memo = p.Memo
			je.Line.Items = append(je.Line.Items, l)
		}
		out = append(out, NetSuiteJournal{ExternalID: ext, EntryKeys: []string{e.Key}, Payload: je})
	}
	return out, nil
}

func nsMemo(e ledger.Entry) string {
	m := e.Memo + " [revhub " + e.Key + "]"
	if e.OriginalPeriod != "" {
		m += " (late effect of " + e.OriginalPeriod + ")"
	}
	return m
}

// check reports everything about e that the configuration cannot map.
func (c *NetSuiteConfig) check(e ledger.Entry) error {
	var probs []string
	if _, ok := c.Subsidiaries[e.Entity]; !ok {
		probs = append(probs, fmt.Sprintf("entity %q has no subsidiary", e.Entity))
	}
	curs := map[string]bool{}
	for i, p := range e.Postings {
		curs[string(p.Currency)] = true
		if _, ok := c.Accounts[p.Account]; !ok {
			probs = append(probs, fmt.Sprintf("postings[%d].account %q has no NetSuite account", i, p.Account))
		}
		if _, ok := c.Currencies[string(p.Currency)]; !ok {
			probs = append(probs, fmt.Sprintf("postings[%d].currency %s has no NetSuite currency", i, p.Currency))
		}
	}
	if len(curs) > 1 {
		probs = append(probs, fmt.Sprintf("postings are in %d currencies; a NetSuite journal entry has one", len(curs)))
	}
	if len(e.Postings) == 0 {
		probs = append(probs, "no postings")
	}
	if len(probs) > 0 {
		return fmt.Errorf("%w: ledger entry %s: %s", ErrUnmappableEntry, e.Key, strings.Join(probs, "; "))
	}
	return nil
}

func nsLookup(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return m["*"]
}

// line builds one journal line from a signed amount (debit positive).
func (c *NetSuiteConfig) line(account string, signed decimal.Decimal, product, customer string) netsuite.JournalLine {
	l := netsuite.JournalLine{Account: netsuite.Ref{ID: c.Accounts[account]},
		Department: netsuite.RefTo(nsLookup(c.Departments, product)), Class: netsuite.RefTo(nsLookup(c.Classes, product)),
		Entity: netsuite.RefTo(c.Customers[customer])}
	if signed.IsNegative() {
		l.Credit = netsuite.NewAmount(signed.Neg())
	} else {
		l.Debit = netsuite.NewAmount(signed)
	}
	return l
}

// SummaryExternalID is the external id of the summarized journal of one entity, currency and day.
func SummaryExternalID(entity, currency string, day time.Time) string {
	return netsuite.ExternalID("summary:" + entity + ":" + strings.ToLower(currency) + ":" + day.Format(time.DateOnly))
}

func (c *NetSuiteConfig) summarize(entries []ledger.Entry) []NetSuiteJournal {
	type group struct {
		entity, currency string
		day              time.Time
		keys             []string
		sums             map[[4]string]decimal.Decimal // account, department, class, customer -> signed sum
	}
	groups := map[string]*group{}
	for _, e := range entries {
		cur := string(e.Postings[0].Currency)
		gk := e.Entity + "\x00" + cur + "\x00" + e.Date.Format(time.DateOnly)
		g, ok := groups[gk]
		if !ok {
			g = &group{entity: e.Entity, currency: cur, day: e.Date, sums: map[[4]string]decimal.Decimal{}}
			groups[gk] = g
		}
		g.keys = append(g.keys, e.Key)
		for _, p := range e.Postings {
			cust := ""
			if c.SummaryKeepsCustomer {
				cust = c.Customers[p.Customer]
			}
			k := [4]string{c.Accounts[p.Account], nsLookup(c.Departments, p.Product), nsLookup(c.Classes, p.Product), cust}
			g.sums[k] = g.sums[k].Add(p.Signed())
		}
	}
	gkeys := make([]string, 0, len(groups))
	for k := range groups {
		gkeys = append(gkeys, k)
	}
	sort.Strings(gkeys)
	var out []NetSuiteJournal
	for _, gk := range gkeys {
		g := groups[gk]
		sort.Strings(g.keys)
		ext := SummaryExternalID(g.entity, g.currency, g.day)
		je := netsuite.JournalEntry{ExternalID: ext, Subsidiary: netsuite.RefTo(c.Subsidiaries[g.entity]),
			Currency: netsuite.RefTo(c.Currencies[g.currency]), TranDate: g.day.Format(time.DateOnly),
			Memo: fmt.Sprintf("revhub summary of %d ledger entries, %s %s %s", len(g.keys), g.entity, g.currency, g.day.Format(time.DateOnly))}
		lineKeys := make([][4]string, 0, len(g.sums))
		for k := range g.sums {
			lineKeys = append(lineKeys, k)
		}
		sort.Slice(lineKeys, func(i, j int) bool {
			return strings.Join(lineKeys[i][:], "\x00") < strings.Join(lineKeys[j][:], "\x00")
		})
		for _, k := range lineKeys {
			sum := g.sums[k]
			if sum.IsZero() {
				continue
			}
			l := netsuite.JournalLine{Account: netsuite.Ref{ID: k[0]}, Department: netsuite.RefTo(k[1]), Class: netsuite.RefTo(k[2]), Entity: netsuite.RefTo(k[3])}
			if sum.IsNegative() {
				l.Credit = netsuite.NewAmount(sum.Neg())
			} else {
				l.Debit = netsuite.NewAmount(sum)
			}
			je.Line.Items = append(je.Line.Items, l)
		}
		out = append(out, NetSuiteJournal{ExternalID: ext, EntryKeys: g.keys, Payload: je})
	}
	return out
}
