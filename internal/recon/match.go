package recon

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// Item is one keyed amount on one side of a check.
type Item struct {
	Key      string          `json:"key"`
	Amount   decimal.Decimal `json:"amount"`
	Currency money.Currency  `json:"currency"`
}

// Listing is one side's name and items, as loaded from the system it stands for.
type Listing struct {
	Name  string
	Items []Item
}

// Match compares two listings one to one by (key, currency) and builds the check: each side's
// totals per currency and every difference (missing on the left, missing on the right, amount
// mismatch, duplicate key), sorted by key then currency so the same input always gives the same
// check. A key found in different currencies on the two sides is two differences, each saying so.
// Invalid items (empty key, unknown currency) are all reported at once.
func Match(name, run, step string, left, right Listing) (Check, error) {
	var ps problems
	if name == "" {
		ps.Add("name", "must not be empty")
	}
	if run == "" {
		ps.Add("run", "must not be empty")
	}
	if step == "" {
		ps.Add("step", "must not be empty")
	}
	validateListing(&ps, "left", left)
	validateListing(&ps, "right", right)
	if err := ps.Err("recon", "check "+name); err != nil {
		return Check{}, err
	}

	lg, rg := groupItems(left.Items), groupItems(right.Items)
	var lc, rc map[string][]money.Currency // built on the first missing key only
	currencies := func() {
		if lc == nil {
			lc, rc = currenciesByKey(left.Items), currenciesByKey(right.Items)
		}
	}
	ids := make([]groupID, 0, len(lg)+len(rg))
	for id := range lg {
		ids = append(ids, id)
	}
	for id := range rg {
		if _, ok := lg[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b groupID) int {
		return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.currency, b.currency))
	})

	var diffs []Difference
	for _, id := range ids {
		l, inL := lg[id]
		r, inR := rg[id]
		d := Difference{Key: id.key, Currency: id.currency, Left: l.sum, Right: r.sum}
		d.Delta = d.Left.Sub(d.Right)
		switch {
		case l.n > 1 || r.n > 1:
			d.Kind = KindDuplicateKey
			var where []string
			if l.n > 1 {
				where = append(where, fmt.Sprintf("%d times on %s", l.n, left.Name))
			}
			if r.n > 1 {
				where = append(where, fmt.Sprintf("%d times on %s", r.n, right.Name))
			}
			d.Reason = fmt.Sprintf("key appears %s; amounts summed: %s vs %s %s", strings.Join(where, " and "), d.Left, d.Right, id.currency)
		case !inR:
			currencies()
			d.Kind = KindMissingRight
			d.Reason = fmt.Sprintf("on %s (%s %s) but not on %s", left.Name, d.Left, id.currency, right.Name) + elsewhere(rc[id.key], right.Name)
		case !inL:
			currencies()
			d.Kind = KindMissingLeft
			d.Reason = fmt.Sprintf("on %s (%s %s) but not on %s", right.Name, d.Right, id.currency, left.Name) + elsewhere(lc[id.key], left.Name)
		case !l.sum.Equal(r.sum):
			d.Kind = KindAmountMismatch
			d.Reason = fmt.Sprintf("%s has %s, %s has %s %s", left.Name, d.Left, right.Name, d.Right, id.currency)
		default:
			continue
		}
		diffs = append(diffs, d)
	}
	return Check{
		Name:        name,
		Run:         run,
		Step:        step,
		Left:        side(left),
		Right:       side(right),
		Differences: diffs,
	}, nil
}

func validateListing(ps *problems, path string, l Listing) {
	if l.Name == "" {
		ps.Add(path+".name", "must not be empty")
	}
	for i, it := range l.Items {
		if it.Key == "" {
			ps.Add(fmt.Sprintf("%s.items[%d].key", path, i), "must not be empty")
		}
		if !it.Currency.Valid() {
			ps.Add(fmt.Sprintf("%s.items[%d].currency", path, i), "%q is not a supported ISO 4217 currency", it.Currency)
		}
	}
}

type groupID struct {
	key      string
	currency money.Currency
}

type group struct {
	sum decimal.Decimal
	n   int
}

func groupItems(items []Item) map[groupID]group {
	out := make(map[groupID]group, len(items))
	for _, it := range items {
		id := groupID{it.Key, it.Currency}
		g := out[id]
		g.sum = g.sum.Add(it.Amount)
		g.n++
		out[id] = g
	}
	return out
}

// currenciesByKey lists, per key, the currencies it appears in on one side.
func currenciesByKey(items []Item) map[string][]money.Currency {
	out := map[string][]money.Currency{}
	for _, it := range items {
		if !slices.Contains(out[it.Key], it.Currency) {
			out[it.Key] = append(out[it.Key], it.Currency)
		}
	}
	return out
}

// elsewhere notes that a missing key is on the other side in another currency.
func elsewhere(cs []money.Currency, sideName string) string {
	if len(cs) == 0 {
		return ""
	}
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	slices.Sort(s)
	return fmt.Sprintf(" in this currency; %s holds it in %s (currency mismatch)", sideName, strings.Join(s, ", "))
}

// side totals a listing per currency.
func side(l Listing) Side {
	by := map[money.Currency]Total{}
	for _, it := range l.Items {
		t := by[it.Currency]
		t.Currency = it.Currency
		t.Amount = t.Amount.Add(it.Amount)
		t.Count++
		by[it.Currency] = t
	}
	totals := make([]Total, 0, len(by))
	for _, t := range by {
		totals = append(totals, t)
	}
	slices.SortFunc(totals, func(a, b Total) int { return cmp.Compare(a.Currency, b.Currency) })
	return Side{Name: l.Name, Count: len(l.Items), Totals: totals}
}
