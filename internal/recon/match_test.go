package recon

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func it(key, amount string, cur money.Currency) Item {
	return Item{Key: key, Amount: d(amount), Currency: cur}
}

// diffRow is the comparable part of a difference.
type diffRow struct {
	Key      string
	Currency money.Currency
	Kind     Kind
	Left     string
	Right    string
	Delta    string
}

func rows(ds []Difference) []diffRow {
	out := make([]diffRow, len(ds))
	for i, x := range ds {
		out[i] = diffRow{x.Key, x.Currency, x.Kind, x.Left.String(), x.Right.String(), x.Delta.String()}
	}
	return out
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name        string
		left, right []Item
		want        []diffRow
		reasons     []string // substrings of each difference's reason, in order
	}{
		{name: "both empty"},
		{
			name:  "equal amounts in different scales match",
			left:  []Item{it("inv_1", "100.00", "USD"), it("inv_2", "5", "EUR")},
			right: []Item{it("inv_2", "5.00", "EUR"), it("inv_1", "100", "USD")},
		},
		{
			name:    "missing on the right",
			left:    []Item{it("inv_1", "100.00", "USD"), it("inv_2", "20.00", "USD")},
			right:   []Item{it("inv_1", "100.00", "USD")},
			want:    []diffRow{{"inv_2", "USD", KindMissingRight, "20", "0", "20"}},
			reasons: []string{"on invoices (20 USD) but not on ledger"},
		},
		{
			name:    "missing on the left",
			left:    []Item{},
			right:   []Item{it("je_9", "-7.50", "EUR")},
			want:    []diffRow{{"je_9", "EUR", KindMissingLeft, "0", "-7.5", "7.5"}},
			reasons: []string{"on ledger (-7.5 EUR) but not on invoices"},
		},
		{
			name:    "amount mismatch",
			left:    []Item{it("inv_1", "100.00", "USD")},
			right:   []Item{it("inv_1", "99.99", "USD")},
			want:    []diffRow{{"inv_1", "USD", KindAmountMismatch, "100", "99.99", "0.01"}},
			reasons: []string{"invoices has 100, ledger has 99.99 USD"},
		},
		{
			name:  "currency mismatch is two differences that say so",
			left:  []Item{it("inv_1", "100.00", "USD")},
			right: []Item{it("inv_1", "100.00", "EUR")},
			want: []diffRow{
				{"inv_1", "EUR", KindMissingLeft, "0", "100", "-100"},
				{"inv_1", "USD", KindMissingRight, "100", "0", "100"},
			},
			reasons: []string{"invoices holds it in USD (currency mismatch)", "ledger holds it in EUR (currency mismatch)"},
		},
		{
			name:    "duplicates are summed and flagged",
			left:    []Item{it("inv_1", "60", "USD"), it("inv_1", "40", "USD")},
			right:   []Item{it("inv_1", "100", "USD")},
			want:    []diffRow{{"inv_1", "USD", KindDuplicateKey, "100", "100", "0"}},
			reasons: []string{"key appears 2 times on invoices; amounts summed"},
		},
		{
			name:  "sorted by key then currency whatever the input order",
			left:  []Item{it("b", "1", "USD"), it("a", "2", "USD"), it("c", "3", "JPY"), it("c", "3", "EUR")},
			right: []Item{it("c", "4", "JPY"), it("d", "1", "USD"), it("c", "3", "EUR")},
			want: []diffRow{
				{"a", "USD", KindMissingRight, "2", "0", "2"},
				{"b", "USD", KindMissingRight, "1", "0", "1"},
				{"c", "JPY", KindAmountMismatch, "3", "4", "-1"},
				{"d", "USD", KindMissingLeft, "0", "1", "-1"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Match("invoices_vs_ledger", "close/acme/2026-10", "ledger", Listing{"invoices", tt.left}, Listing{"ledger", tt.right})
			if err != nil {
				t.Fatal(err)
			}
			if got := rows(c.Differences); !reflect.DeepEqual(got, tt.want) && (len(got) != 0 || len(tt.want) != 0) {
				t.Fatalf("differences\n got %+v\nwant %+v", got, tt.want)
			}
			for i, r := range tt.reasons {
				if !strings.Contains(c.Differences[i].Reason, r) {
					t.Errorf("difference %d reason %q lacks %q", i, c.Differences[i].Reason, r)
				}
			}
			if c.Left.Count != len(tt.left) || c.Right.Count != len(tt.right) {
				t.Errorf("counts %d/%d, want %d/%d", c.Left.Count, c.Right.Count, len(tt.left), len(tt.right))
			}
			if c.Name != "invoices_vs_ledger" || c.Run != "close/acme/2026-10" || c.Step != "ledger" || c.Left.Name != "invoices" || c.Right.Name != "ledger" {
				t.Errorf("identity not carried: %+v", c)
			}
		})
	}
}

func TestMatchTotalsPerCurrency(t *testing.T) {
	c, err := Match("x", "r", "s",
		Listing{"crm", []Item{it("o1", "10.50", "USD"), it("o2", "1000", "JPY"), it("o3", "0.25", "USD")}},
		Listing{"contracts", nil})
	if err != nil {
		t.Fatal(err)
	}
	want := []Total{{"JPY", d("1000"), 1}, {"USD", d("10.75"), 2}}
	if len(c.Left.Totals) != len(want) {
		t.Fatalf("totals %+v", c.Left.Totals)
	}
	for i, w := range want {
		g := c.Left.Totals[i]
		if g.Currency != w.Currency || !g.Amount.Equal(w.Amount) || g.Count != w.Count {
			t.Errorf("total %d = %+v, want %+v", i, g, w)
		}
	}
	if len(c.Right.Totals) != 0 || c.Right.Count != 0 {
		t.Errorf("empty side totals %+v", c.Right)
	}
}

// TestMatchDeterministic shuffles the inputs: the check must not change.
func TestMatchDeterministic(t *testing.T) {
	var left, right []Item
	for i := range 200 {
		k := "k" + string(rune('a'+i%26)) + decimal.NewFromInt(int64(i)).String()
		left = append(left, it(k, decimal.NewFromInt(int64(i)).String(), "USD"))
		if i%7 != 0 {
			amt := int64(i)
			if i%5 == 0 {
				amt++
			}
			right = append(right, it(k, decimal.NewFromInt(amt).String(), "USD"))
		}
	}
	right = append(right, it("only-right", "3", "EUR"))
	first, err := Match("x", "r", "s", Listing{"l", left}, Listing{"r", right})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		rng.Shuffle(len(left), func(i, j int) { left[i], left[j] = left[j], left[i] })
		rng.Shuffle(len(right), func(i, j int) { right[i], right[j] = right[j], right[i] })
		again, err := Match("x", "r", "s", Listing{"l", left}, Listing{"r", right})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rows(first.Differences), rows(again.Differences)) || !reflect.DeepEqual(first.Left.Totals, again.Left.Totals) {
			t.Fatal("the same items in another order gave another check")
		}
	}
	if len(first.Differences) == 0 {
		t.Fatal("expected differences")
	}
}

func TestMatchReportsAllProblems(t *testing.T) {
	_, err := Match("", "", "", Listing{"", []Item{{Key: "", Amount: d("1"), Currency: "USD"}, {Key: "a", Amount: d("1"), Currency: "XXX"}}},
		Listing{"r", []Item{{Key: "b", Amount: d("1"), Currency: "usd"}}})
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("err = %v", err)
	}
	want := []string{"name", "run", "step", "left.name", "left.items[0].key", "left.items[1].currency", "right.items[0].currency"}
	var got []string
	for _, p := range inv.Problems {
		got = append(got, p.Field)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fields %v, want %v", got, want)
	}
}
