package recon

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

func diff(key string, cur money.Currency, kind Kind, left, right string) Difference {
	return Difference{Key: key, Currency: cur, Kind: kind, Left: d(left), Right: d(right), Delta: d(left).Sub(d(right))}
}

func tol(max int, amounts ...string) Tolerance {
	t := Tolerance{MaxDifferences: max}
	for i := 0; i+1 < len(amounts); i += 2 {
		if t.Amounts == nil {
			t.Amounts = map[money.Currency]decimal.Decimal{}
		}
		t.Amounts[money.Currency(amounts[i])] = d(amounts[i+1])
	}
	return t
}

func TestEvaluate(t *testing.T) {
	penny := diff("inv_1", "USD", KindAmountMismatch, "100.00", "99.99")
	under := diff("inv_2", "USD", KindAmountMismatch, "50.00", "50.02")
	euro := diff("inv_3", "EUR", KindMissingRight, "0.03", "0")
	zeroMissing := diff("inv_4", "USD", KindMissingLeft, "0", "0")
	dup := diff("inv_5", "USD", KindDuplicateKey, "10", "10")
	tests := []struct {
		name     string
		diffs    []Difference
		tol      Tolerance
		want     Status
		breaches []string
	}{
		{name: "no differences is green even with zero tolerance", want: StatusGreen},
		{name: "zero tolerance blocks any difference", diffs: []Difference{penny}, want: StatusBlocked,
			breaches: []string{"1 difference(s), tolerance allows 0", "USD: differences total 0.01 in absolute value, tolerance allows 0"}},
		{name: "zero tolerance blocks a zero-amount missing record by count", diffs: []Difference{zeroMissing}, want: StatusBlocked,
			breaches: []string{"1 difference(s), tolerance allows 0"}},
		{name: "within both limits", diffs: []Difference{penny, under}, tol: tol(2, "USD", "0.03"), want: StatusWithinTolerance},
		{name: "absolute deltas add up, signs do not cancel", diffs: []Difference{penny, under}, tol: tol(5, "USD", "0.02"), want: StatusBlocked,
			breaches: []string{"USD: differences total 0.03 in absolute value, tolerance allows 0.02"}},
		{name: "count limit", diffs: []Difference{penny, under}, tol: tol(1, "USD", "1"), want: StatusBlocked,
			breaches: []string{"2 difference(s), tolerance allows 1"}},
		{name: "a currency without tolerance allows nothing", diffs: []Difference{penny, euro}, tol: tol(5, "USD", "1"), want: StatusBlocked,
			breaches: []string{"EUR: differences total 0.03 in absolute value, tolerance allows 0"}},
		{name: "per-currency tolerance", diffs: []Difference{penny, euro}, tol: tol(5, "USD", "0.01", "EUR", "0.05"), want: StatusWithinTolerance},
		{name: "duplicates always block", diffs: []Difference{dup}, tol: tol(100, "USD", "1000"), want: StatusBlocked,
			breaches: []string{"1 duplicate key(s): duplicates always block"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Check{Name: "x", Differences: tt.diffs}
			if got := Evaluate(c, tt.tol); got != tt.want {
				t.Errorf("Evaluate = %s, want %s", got, tt.want)
			}
			if got := Breaches(c, tt.tol); !reflect.DeepEqual(got, tt.breaches) {
				t.Errorf("Breaches = %q, want %q", got, tt.breaches)
			}
		})
	}
}

func TestEffective(t *testing.T) {
	a := diff("inv_1", "USD", KindAmountMismatch, "100", "90")
	b := diff("inv_2", "USD", KindMissingRight, "0.01", "0")
	bEUR := diff("inv_2", "EUR", KindMissingLeft, "0", "0.01")
	c := Check{Name: "x", Differences: []Difference{a, b, bEUR}}
	tolerance := tol(2, "USD", "0.01", "EUR", "0.01")
	base := NewResult(c, 1, tolerance)
	if base.Status != StatusBlocked {
		t.Fatalf("status %s", base.Status)
	}
	dec := func(keys ...string) []Decision {
		var out []Decision
		for _, k := range keys {
			out = append(out, Decision{DifferenceKey: k, Actor: "cfo", Reason: "ok"})
		}
		return out
	}
	tests := []struct {
		name      string
		decisions []Decision
		want      Status
	}{
		{"no decision", nil, StatusBlocked},
		{"whole check approved", dec(""), StatusApproved},
		{"approving the big one leaves what tolerance allows", dec("inv_1"), StatusApproved},
		{"approving the small key leaves the big one blocking", dec("inv_2"), StatusBlocked},
		{"an unknown key changes nothing", dec("inv_9"), StatusBlocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base
			r.Decisions = tt.decisions
			if got := r.Effective(); got != tt.want {
				t.Errorf("Effective = %s, want %s", got, tt.want)
			}
		})
	}
	green := NewResult(Check{Name: "x"}, 1, Tolerance{})
	green.Decisions = dec("")
	if green.Effective() != StatusGreen {
		t.Error("a decision on a green check must not change it")
	}
}

func TestParseTolerance(t *testing.T) {
	got, err := ParseTolerance(" max_differences=3, USD=0.05 ,eur=1")
	if err != nil {
		t.Fatal(err)
	}
	if got.MaxDifferences != 3 || !got.Amounts["USD"].Equal(d("0.05")) || !got.Amounts["EUR"].Equal(d("1")) || len(got.Amounts) != 2 {
		t.Fatalf("got %+v", got)
	}
	if z, err := ParseTolerance(""); err != nil || z.MaxDifferences != 0 || z.Amounts != nil {
		t.Fatalf("empty: %+v, %v", z, err)
	}
	_, err = ParseTolerance("max_differences=x,USD=abc,XYZ=1,USD=1,EUR=-1,oops,max_differences=-2")
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`max_differences: "x" is not an integer`,
		`amounts.USD: "abc" is not a decimal amount`,
		`[2]: "XYZ" is neither max_differences nor a supported ISO 4217 currency`,
		`[5]: "oops" must be name=value`,
		`max_differences: must not be negative, got -2`,
		`amounts.EUR: must not be negative, got -1`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
default:
  max_differences: 0
checks:
  invoices_vs_ledger:
    max_differences: 5
    amounts:
      USD: 0.05     # unquoted: read as text, never through a float
      EUR: "0.10"
  payments_vs_provider:
    amounts: {JPY: "3"}
`))
	if err != nil {
		t.Fatal(err)
	}
	il := cfg.For("invoices_vs_ledger")
	if il.MaxDifferences != 5 || !il.Amounts["USD"].Equal(d("0.05")) || !il.Amounts["EUR"].Equal(d("0.1")) {
		t.Errorf("invoices_vs_ledger = %+v", il)
	}
	if p := cfg.For("payments_vs_provider"); p.MaxDifferences != 0 || !p.Amounts["JPY"].Equal(d("3")) {
		t.Errorf("payments_vs_provider = %+v", p)
	}
	if o := cfg.For("crm_vs_contracts"); o.MaxDifferences != 0 || o.Amounts != nil {
		t.Errorf("default = %+v", o)
	}
	if empty, err := ParseConfig(nil); err != nil || empty.For("x").MaxDifferences != 0 {
		t.Errorf("empty config: %+v, %v", empty, err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	_, err := ParseConfig([]byte(`
default:
  max_differences: -1
checks:
  Bad Name:
    amounts: {USD: "1"}
  ok_check:
    amounts: {USD: "-0.01", XXX: "1", EUR: "ten"}
`))
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("err = %v", err)
	}
	var fields []string
	for _, p := range inv.Problems {
		fields = append(fields, p.Field)
	}
	want := []string{"default.max_differences", "checks.Bad Name", "checks.ok_check.amounts.EUR", "checks.ok_check.amounts.XXX", "checks.ok_check.amounts.USD"}
	if !reflect.DeepEqual(fields, want) {
		t.Fatalf("fields %q, want %q (%v)", fields, want, err)
	}
	if _, err := ParseConfig([]byte("checks:\n  x:\n    max_diferences: 3\n")); err == nil || !strings.Contains(err.Error(), "max_diferences") {
		t.Fatalf("unknown field: %v", err)
	}
}

func TestLoadConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "recon.yaml")
	if err := os.WriteFile(p, []byte("default: {max_differences: 2}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(p)
	if err != nil || cfg.Default.MaxDifferences != 2 {
		t.Fatalf("%+v, %v", cfg, err)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "none.yaml")); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestResultValidate(t *testing.T) {
	c, err := Match("invoices_vs_ledger", "close/acme/2026-10", "ledger",
		Listing{"invoices", []Item{it("inv_1", "10", "USD")}}, Listing{"ledger", nil})
	if err != nil {
		t.Fatal(err)
	}
	r := NewResult(c, 1, Tolerance{})
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := r
	bad.Attempt = 0
	bad.Status = StatusGreen
	bad.Check.Name = "Invoices vs Ledger"
	bad.Check.Differences = append([]Difference{}, r.Check.Differences...)
	bad.Check.Differences = append(bad.Check.Differences, Difference{Key: "inv_1", Currency: "USD", Kind: "weird", Left: d("1"), Right: d("0"), Delta: d("2")})
	err = bad.Validate()
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("err = %v", err)
	}
	var fields []string
	for _, p := range inv.Problems {
		fields = append(fields, p.Field)
	}
	want := []string{"check.name", "attempt", "check.differences[1].kind", "check.differences[1].delta", "check.differences[1]"}
	if !reflect.DeepEqual(fields, want) {
		t.Fatalf("fields %q, want %q", fields, want)
	}
	lying := r
	lying.Status = StatusGreen
	if err := lying.Validate(); err == nil || !strings.Contains(err.Error(), `status: is "green" but the differences and tolerance give "blocked"`) {
		t.Fatalf("status not checked: %v", err)
	}
}
