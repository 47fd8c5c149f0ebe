package revrec

import (
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// WaterfallRow is one obligation's recognized revenue (breakage included) per month of a waterfall.
type WaterfallRow struct {
	CustomerID    string
	EntityID      string
	ArrangementID string
	ObligationID  string
	Product       string
	Currency      money.Currency
	Amounts       []decimal.Decimal // one per month of the report, in order
	Total         decimal.Decimal
}

// Waterfall lays out recognized revenue per obligation (rows) and month from first to last (columns).
func Waterfall(lines []Line, first, last Month) ([]Month, []WaterfallRow) {
	months := MonthsBetween(first, last)
	idx := map[string]int{}
	var rows []WaterfallRow
	for _, l := range lines {
		if l.Month.Before(first) || l.Month.After(last) {
			continue
		}
		k := l.ArrangementID + "\x00" + l.ObligationID
		i, ok := idx[k]
		if !ok {
			i = len(rows)
			idx[k] = i
			rows = append(rows, WaterfallRow{CustomerID: l.CustomerID, EntityID: l.EntityID, ArrangementID: l.ArrangementID,
				ObligationID: l.ObligationID, Product: l.Product, Currency: l.Currency, Amounts: zeros(len(months))})
		}
		r := &rows[i]
		col := l.Month.index() - first.index()
		r.Amounts[col] = r.Amounts[col].Add(l.Recognized())
		r.Total = r.Total.Add(l.Recognized())
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.CustomerID != b.CustomerID {
			return a.CustomerID < b.CustomerID
		}
		if a.ArrangementID != b.ArrangementID {
			return a.ArrangementID < b.ArrangementID
		}
		return a.ObligationID < b.ObligationID
	})
	return months, rows
}

// RollForwardRow is the deferred-revenue roll-forward of one entity and currency for one month.
// The identity: (OpeningDeferred - OpeningUnbilled) + Billings - Revenue - Breakage = ClosingDeferred - ClosingUnbilled.
type RollForwardRow struct {
	EntityID        string
	Currency        money.Currency
	Month           Month
	OpeningDeferred decimal.Decimal // contract liabilities at month start
	OpeningUnbilled decimal.Decimal // contract assets at month start
	Billings        decimal.Decimal
	Revenue         decimal.Decimal
	Breakage        decimal.Decimal
	ClosingDeferred decimal.Decimal
	ClosingUnbilled decimal.Decimal
}

// Check verifies opening + billings - recognized = closing on the net contract position.
func (r RollForwardRow) Check() error {
	open := r.OpeningDeferred.Sub(r.OpeningUnbilled)
	closing := r.ClosingDeferred.Sub(r.ClosingUnbilled)
	if want := open.Add(r.Billings).Sub(r.Revenue).Sub(r.Breakage); !want.Equal(closing) {
		return fmt.Errorf("roll-forward %s %s %s: opening %s + billings %s - recognized %s = %s, closing is %s",
			r.EntityID, r.Currency, r.Month, open, r.Billings, r.Revenue.Add(r.Breakage), want, closing)
	}
	return nil
}

// RollForward builds the deferred-revenue roll-forward per entity, currency and month from first to last.
// Each arrangement is netted on its own (a liability of one contract never offsets an asset of another);
// after its last month an arrangement's closing position carries forward unchanged.
func RollForward(lines []Line, first, last Month) []RollForwardRow {
	type key struct {
		entity string
		cur    money.Currency
		month  int
	}
	byKey := map[key]*RollForwardRow{}
	get := func(entity string, cur money.Currency, m Month) *RollForwardRow {
		k := key{entity, cur, m.index()}
		r, ok := byKey[k]
		if !ok {
			r = &RollForwardRow{EntityID: entity, Currency: cur, Month: m}
			byKey[k] = r
		}
		return r
	}
	bals := Balances(lines)
	for i, b := range bals {
		lastOfArr := i == len(bals)-1 || bals[i+1].ArrangementID != b.ArrangementID
		if !b.Month.Before(first) && !b.Month.After(last) {
			r := get(b.EntityID, b.Currency, b.Month)
			od, ou := split(b.Opening)
			r.OpeningDeferred, r.OpeningUnbilled = r.OpeningDeferred.Add(od), r.OpeningUnbilled.Add(ou)
			r.Billings, r.Revenue, r.Breakage = r.Billings.Add(b.Billed), r.Revenue.Add(b.Revenue), r.Breakage.Add(b.Breakage)
			r.ClosingDeferred, r.ClosingUnbilled = r.ClosingDeferred.Add(b.Deferred), r.ClosingUnbilled.Add(b.Unbilled)
		}
		if lastOfArr && b.Closing.Sign() != 0 {
			for m := maxMonth(b.Month.Next(), first); !m.After(last); m = m.Next() {
				r := get(b.EntityID, b.Currency, m)
				r.OpeningDeferred, r.OpeningUnbilled = r.OpeningDeferred.Add(b.Deferred), r.OpeningUnbilled.Add(b.Unbilled)
				r.ClosingDeferred, r.ClosingUnbilled = r.ClosingDeferred.Add(b.Deferred), r.ClosingUnbilled.Add(b.Unbilled)
			}
		}
	}
	out := make([]RollForwardRow, 0, len(byKey))
	for _, r := range byKey {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.EntityID != b.EntityID {
			return a.EntityID < b.EntityID
		}
		if a.Currency != b.Currency {
			return a.Currency < b.Currency
		}
		return a.Month.Before(b.Month)
	})
	return out
}

// Dimension is what recognized revenue is grouped by.
type Dimension string

// The reporting dimensions.
const (
	ByProduct  Dimension = "product"
	ByCustomer Dimension = "customer"
	ByEntity   Dimension = "entity"
)

// ParseDimension checks a dimension name (product, customer or entity).
func ParseDimension(s string) (Dimension, error) {
	switch d := Dimension(s); d {
	case ByProduct, ByCustomer, ByEntity:
		return d, nil
	}
	return "", fmt.Errorf("dimension %q: want product, customer or entity", s)
}

// RecognizedRow is recognized revenue of one dimension value, currency and month.
type RecognizedRow struct {
	Key      string // the product code, customer ID or entity ID
	Currency money.Currency
	Month    Month
	Revenue  decimal.Decimal
	Breakage decimal.Decimal
}

// Total is revenue plus breakage.
func (r RecognizedRow) Total() decimal.Decimal { return r.Revenue.Add(r.Breakage) }

// RecognizedBy sums recognized revenue by a dimension, currency and month from first to last, leaving out empty rows.
func RecognizedBy(lines []Line, d Dimension, first, last Month) ([]RecognizedRow, error) {
	if _, err := ParseDimension(string(d)); err != nil {
		return nil, err
	}
	type key struct {
		k     string
		cur   money.Currency
		month int
	}
	byKey := map[key]*RecognizedRow{}
	for _, l := range lines {
		if l.Month.Before(first) || l.Month.After(last) || l.Revenue.IsZero() && l.Breakage.IsZero() {
			continue
		}
		v := l.Product
		switch d {
		case ByCustomer:
			v = l.CustomerID
		case ByEntity:
			v = l.EntityID
		}
		k := key{v, l.Currency, l.Month.index()}
		r, ok := byKey[k]
		if !ok {
			r = &RecognizedRow{Key: v, Currency: l.Currency, Month: l.Month}
			byKey[k] = r
		}
		r.Revenue, r.Breakage = r.Revenue.Add(l.Revenue), r.Breakage.Add(l.Breakage)
	}
	out := make([]RecognizedRow, 0, len(byKey))
	for _, r := range byKey {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if a.Currency != b.Currency {
			return a.Currency < b.Currency
		}
		return a.Month.Before(b.Month)
	})
	return out, nil
}

func zeros(n int) []decimal.Decimal {
	out := make([]decimal.Decimal, n)
	for i := range out {
		out[i] = decimal.Zero
	}
	return out
}

func maxMonth(a, b Month) Month {
	if b.After(a) {
		return b
	}
	return a
}
