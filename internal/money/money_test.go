package money

import (
	"testing"
	"testing/quick"

	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestRound(t *testing.T) {
	cases := []struct {
		in   string
		cur  Currency
		want string
	}{
		{"1.005", "USD", "1.01"},
		{"-1.005", "USD", "-1.01"},
		{"1.004999", "USD", "1"},
		{"100.5", "JPY", "101"},
		{"100.4", "JPY", "100"},
		{"1.0005", "BHD", "1.001"},
		{"0.000000000001", "USD", "0"},
	}
	for _, c := range cases {
		got, err := Round(d(c.in), c.cur)
		if err != nil {
			t.Fatalf("Round(%s,%s): %v", c.in, c.cur, err)
		}
		if !got.Equal(d(c.want)) {
			t.Errorf("Round(%s,%s) = %s, want %s", c.in, c.cur, got, c.want)
		}
	}
	if _, err := Round(d("1"), "XXX"); err == nil {
		t.Fatal("Round with unknown currency: want error")
	}
}

func TestAllocate(t *testing.T) {
	cases := []struct {
		total   string
		weights []string
		cur     Currency
		want    []string
	}{
		{"100.00", []string{"1", "1", "1"}, "USD", []string{"33.34", "33.33", "33.33"}},
		{"0.05", []string{"1", "1", "1"}, "USD", []string{"0.02", "0.02", "0.01"}},
		{"120000", []string{"120000", "30000"}, "USD", []string{"96000", "24000"}},
		{"-100.00", []string{"1", "1", "1"}, "USD", []string{"-33.34", "-33.33", "-33.33"}},
		{"10", []string{"1", "2"}, "JPY", []string{"3", "7"}},
		{"1.000", []string{"1", "1", "1"}, "BHD", []string{"0.334", "0.333", "0.333"}},
		{"5.00", []string{"0", "1"}, "USD", []string{"0", "5"}},
	}
	for _, c := range cases {
		ws := make([]decimal.Decimal, len(c.weights))
		for i, w := range c.weights {
			ws[i] = d(w)
		}
		got, err := Allocate(d(c.total), ws, c.cur)
		if err != nil {
			t.Fatalf("Allocate(%s): %v", c.total, err)
		}
		for i := range got {
			if !got[i].Equal(d(c.want[i])) {
				t.Errorf("Allocate(%s,%v)[%d] = %s, want %s", c.total, c.weights, i, got[i], c.want[i])
			}
		}
	}
	if _, err := Allocate(d("1.001"), []decimal.Decimal{d("1")}, "USD"); err == nil {
		t.Error("unrounded total: want error")
	}
	if _, err := Allocate(d("1"), []decimal.Decimal{d("0")}, "USD"); err == nil {
		t.Error("zero weights: want error")
	}
	if _, err := Allocate(d("1"), []decimal.Decimal{d("-1"), d("2")}, "USD"); err == nil {
		t.Error("negative weight: want error")
	}
}

// TestAllocateSumsToWhole is the property: parts always add back to the whole.
func TestAllocateSumsToWhole(t *testing.T) {
	f := func(totalCents int32, raw []uint16) bool {
		if len(raw) == 0 {
			return true
		}
		ws := make([]decimal.Decimal, len(raw))
		pos := false
		for i, r := range raw {
			ws[i] = decimal.NewFromInt(int64(r))
			pos = pos || r > 0
		}
		if !pos {
			return true
		}
		total := decimal.New(int64(totalCents), -2)
		parts, err := Allocate(total, ws, "USD")
		if err != nil {
			return false
		}
		sum := decimal.Zero
		for _, p := range parts {
			if !IsRounded(p, "USD") {
				return false
			}
			sum = sum.Add(p)
		}
		return sum.Equal(total)
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Fatal(err)
	}
}

func TestMinorConversions(t *testing.T) {
	v, _ := MinorToDecimal(12345, "USD")
	if !v.Equal(d("123.45")) {
		t.Fatalf("MinorToDecimal = %s", v)
	}
	m, err := DecimalToMinor(d("1.234"), "BHD")
	if err != nil || m != 1234 {
		t.Fatalf("DecimalToMinor = %d, %v", m, err)
	}
	if _, err := DecimalToMinor(d("1.234"), "USD"); err == nil {
		t.Fatal("unrounded: want error")
	}
	p, _ := Prorate(d("100.00"), 15, 30, "USD")
	if !p.Equal(d("50")) {
		t.Fatalf("Prorate = %s", p)
	}
}
