package recon

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/revhub/revhub/internal/money"
)

// Tolerance is how far a check may be off and still let the close move on; both limits must hold.
// The zero Tolerance allows no difference at all.
type Tolerance struct {
	// Amounts is, per currency, the largest sum of |delta| over the check's differences in that
	// currency; a currency not listed allows none.
	Amounts map[money.Currency]decimal.Decimal `json:"amounts,omitempty"`
	// MaxDifferences is the most differences the check may have, in all currencies together.
	MaxDifferences int `json:"max_differences"`
}

// validate appends every problem of t, naming fields under path.
func (t Tolerance) validate(ps *problems, path string) {
	if t.MaxDifferences < 0 {
		ps.Add(path+"max_differences", "must not be negative, got %d", t.MaxDifferences)
	}
	for _, c := range sortedCurrencies(t.Amounts) {
		a := t.Amounts[c]
		if !c.Valid() {
			ps.Add(path+"amounts."+string(c), "is not a supported ISO 4217 currency")
			continue
		}
		if a.IsNegative() {
			ps.Add(path+"amounts."+string(c), "must not be negative, got %s", a)
		}
	}
}

// Validate reports every problem of t at once.
func (t Tolerance) Validate() error {
	var ps problems
	t.validate(&ps, "")
	return ps.Err("recon", "tolerance")
}

// ParseTolerance reads the flag form "max_differences=3,USD=0.05,EUR=0.05" (any order; a
// missing part allows none).
func ParseTolerance(s string) (Tolerance, error) {
	var (
		t  Tolerance
		ps problems
	)
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		field := fmt.Sprintf("[%d]", i)
		switch {
		case !ok:
			ps.Add(field, "%q must be name=value, e.g. max_differences=3 or USD=0.05", part)
		case name == "max_differences":
			n, err := strconv.Atoi(value)
			if err != nil {
				ps.Add("max_differences", "%q is not an integer", value)
				continue
			}
			t.MaxDifferences = n
		default:
			c, err := money.ParseCurrency(name)
			if err != nil {
				ps.Add(field, "%q is neither max_differences nor a supported ISO 4217 currency", name)
				continue
			}
			a, err := decimal.NewFromString(value)
			if err != nil {
				ps.Add("amounts."+string(c), "%q is not a decimal amount", value)
				continue
			}
			if t.Amounts == nil {
				t.Amounts = map[money.Currency]decimal.Decimal{}
			}
			if _, dup := t.Amounts[c]; dup {
				ps.Add("amounts."+string(c), "is given more than once")
				continue
			}
			t.Amounts[c] = a
		}
	}
	t.validate(&ps, "")
	if err := ps.Err("recon", "tolerance "+strconv.Quote(s)); err != nil {
		return Tolerance{}, err
	}
	return t, nil
}

// Config holds the tolerance of each check, with a default for checks it does not name.
type Config struct {
	Default Tolerance            `json:"default"`
	Checks  map[string]Tolerance `json:"checks,omitempty"`
}

// For returns the tolerance of the named check: its own entry if configured, else the default.
func (c Config) For(check string) Tolerance {
	if t, ok := c.Checks[check]; ok {
		return t
	}
	return c.Default
}

type rawTolerance struct {
	Amounts        map[string]string `yaml:"amounts"`
	MaxDifferences int               `yaml:"max_differences"`
}

type rawConfig struct {
	Default rawTolerance            `yaml:"default"`
	Checks  map[string]rawTolerance `yaml:"checks"`
}

// ParseConfig reads the YAML tolerance configuration (see docs/reconciliation.md), refusing
// unknown fields and reporting every invalid value at once by its path.
//
//	default:
//	  max_differences: 0
//	checks:
//	  invoices_vs_ledger:
//	    max_differences: 5
//	    amounts: {USD: "1.00", EUR: "1.00"}
func ParseConfig(data []byte) (Config, error) {
	var raw rawConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("recon: tolerance config: %w", err)
	}
	var ps problems
	cfg := Config{Default: convertTolerance(&ps, "default.", raw.Default)}
	names := make([]string, 0, len(raw.Checks))
	for name := range raw.Checks {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if cfg.Checks == nil {
			cfg.Checks = map[string]Tolerance{}
		}
		path := "checks." + name + "."
		if !checkNamePattern.MatchString(name) {
			ps.Add("checks."+name, "check names are lower-case letters, digits, '_', '.' or '-'")
		}
		cfg.Checks[name] = convertTolerance(&ps, path, raw.Checks[name])
	}
	if err := ps.Err("recon", "tolerance config"); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// LoadConfig reads a YAML tolerance configuration file.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("recon: tolerance config: %w", err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

func convertTolerance(ps *problems, path string, r rawTolerance) Tolerance {
	t := Tolerance{MaxDifferences: r.MaxDifferences}
	keys := make([]string, 0, len(r.Amounts))
	for k := range r.Amounts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c, err := money.ParseCurrency(k)
		if err != nil {
			ps.Add(path+"amounts."+k, "is not a supported ISO 4217 currency")
			continue
		}
		a, err := decimal.NewFromString(r.Amounts[k])
		if err != nil {
			ps.Add(path+"amounts."+k, "%q is not a decimal amount", r.Amounts[k])
			continue
		}
		if t.Amounts == nil {
			t.Amounts = map[money.Currency]decimal.Decimal{}
		}
		t.Amounts[c] = a
	}
	t.validate(ps, path)
	return t
}

func sortedCurrencies[V any](m map[money.Currency]V) []money.Currency {
	out := make([]money.Currency, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
