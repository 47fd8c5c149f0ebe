package usage

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/shopspring/decimal"
)

// randomAmount returns a value of a meter-like shape: mostly small integers and fractions, some
// near the int64 limits, some only representable as decimals.
func randomAmount(r *rand.Rand) (amount, decimal.Decimal) {
	switch r.IntN(6) {
	case 0:
		c := r.Int64N(10_000) - 2_000
		return amountInt(c), decimal.NewFromInt(c)
	case 1:
		c, s := r.Int64N(1e12)-5e11, int32(r.IntN(19))
		return amount{coef: c, scale: s}, decimal.New(c, -s)
	case 2:
		c := math.MaxInt64 - r.Int64N(1000)
		if r.IntN(2) == 0 {
			c = -c
		}
		s := int32(r.IntN(19))
		return amount{coef: c, scale: s}, decimal.New(c, -s)
	case 3:
		d := decimal.RequireFromString(strconv.FormatInt(r.Int64(), 10) + strconv.FormatInt(r.Int64N(1e18), 10) + "." + strconv.Itoa(r.IntN(1000)))
		if r.IntN(2) == 0 {
			d = d.Neg()
		}
		return amountOf(d), d
	case 4:
		c, e := r.Int64N(1000), int32(r.IntN(5))
		d := decimal.New(c, e) // positive exponent: decimal form
		return amountOf(d), d
	default:
		return amount{}, decimal.Zero
	}
}

// TestAmountMatchesDecimal checks the integer fast path (and its decimal fallback) against
// shopspring/decimal on random values: sums, comparisons, text and the fast parser.
func TestAmountMatchesDecimal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200_000 {
		a, da := randomAmount(r)
		b, db := randomAmount(r)
		if got, want := a.String(), da.String(); got != want {
			t.Fatalf("#%d: String of %v: %q, want %q", i, a, got, want)
		}
		sum := a.add(b)
		if got, want := sum.String(), da.Add(db).String(); got != want {
			t.Fatalf("#%d: %s + %s = %s, want %s", i, da, db, got, want)
		}
		if !sum.decimal().Equal(da.Add(db)) {
			t.Fatalf("#%d: %s + %s: decimal %s", i, da, db, sum.decimal())
		}
		if got, want := a.cmp(b), da.Cmp(db); got != want {
			t.Fatalf("#%d: cmp(%s, %s) = %d, want %d", i, da, db, got, want)
		}
		// Running sums: many small values, then overflow into the decimal form and on.
		acc, dacc := amount{}, decimal.Zero
		for range r.IntN(8) {
			acc, dacc = acc.add(a), dacc.Add(da)
		}
		if got, want := acc.String(), dacc.String(); got != want {
			t.Fatalf("#%d: running sum %s, want %s", i, got, want)
		}
	}
}

func TestParseAmount(t *testing.T) {
	for _, s := range []string{"0", "-0", "7", "-7", "0.5", "-0.5", "1.50", "123456789012345678", "-123456789012345678",
		"0.000000000000000001", "99999999.9999999999", "10", "100.000"} {
		a, ok := parseAmount([]byte(s))
		if !ok {
			t.Fatalf("%s: not parsed", s)
		}
		if want := decimal.RequireFromString(s); !a.decimal().Equal(want) || a.String() != want.String() {
			t.Fatalf("%s: got %s", s, a)
		}
		if n, reason := number([]byte(s)); reason != "" || n.String() != a.String() {
			t.Fatalf("number(%s) = %s, %q", s, n, reason)
		}
	}
	for _, s := range []string{"", "-", "1.", ".5", "1e3", "1E3", "1234567890123456789", "0.1234567890123456789", "+1", "1.2.3", "--1", "1-", "\"1\"", "nan"} {
		if a, ok := parseAmount([]byte(s)); ok {
			t.Fatalf("%q: parsed as %s", s, a)
		}
	}
	// Values the fast path leaves to the decimal parser come out the same as before.
	for _, s := range []string{"1e3", "1234567890123456789", "0.1234567890123456789", `"42.5"`, "1.5000000000000000000000", "-2.5E-3"} {
		n, reason := number([]byte(s))
		d, dreason := numberSlow([]byte(s))
		if reason != dreason || n.String() != d.String() || !n.decimal().Equal(d) {
			t.Fatalf("number(%s) = %s %q, decimal %s %q", s, n, reason, d, dreason)
		}
	}
}
