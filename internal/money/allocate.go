package money

import (
	"fmt"
	"sort"

	"github.com/shopspring/decimal"
)

// Allocate splits total (already rounded to c) across weights by largest remainder, so the
// parts are rounded to c's minor unit and always sum exactly to total. Ties in remainder go to
// the earlier weight. Weights must be non-negative with a positive sum.
func Allocate(total decimal.Decimal, weights []decimal.Decimal, c Currency) ([]decimal.Decimal, error) {
	n, err := c.MinorUnits()
	if err != nil {
		return nil, err
	}
	if len(weights) == 0 {
		return nil, fmt.Errorf("allocate: weights: at least one weight is required")
	}
	if !total.Equal(total.Round(n)) {
		return nil, fmt.Errorf("allocate: total %s: not rounded to %d decimal places for %s", total, n, c)
	}
	sum := decimal.Zero
	for i, w := range weights {
		if w.IsNegative() {
			return nil, fmt.Errorf("allocate: weights[%d]: must not be negative, got %s", i, w)
		}
		sum = sum.Add(w)
	}
	if !sum.IsPositive() {
		return nil, fmt.Errorf("allocate: weights: sum must be positive")
	}
	unit := decimal.New(1, -n)
	units := total.Shift(n) // total in minor units, integral
	parts := make([]decimal.Decimal, len(weights))
	type rem struct {
		i int
		r decimal.Decimal
	}
	rems := make([]rem, len(weights))
	assigned := decimal.Zero
	for i, w := range weights {
		exact := units.Mul(w).DivRound(sum, 24)
		// Truncate toward zero so that a negative total (a credit) is handled symmetrically.
		floor := exact.Truncate(0)
		parts[i] = floor
		assigned = assigned.Add(floor)
		rems[i] = rem{i: i, r: exact.Sub(floor).Abs()}
	}
	left := units.Sub(assigned) // integral number of minor units still to hand out
	step := decimal.NewFromInt(1)
	if left.IsNegative() {
		step = step.Neg()
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r.GreaterThan(rems[b].r) })
	for k := 0; !left.IsZero(); k++ {
		idx := rems[k%len(rems)].i
		parts[idx] = parts[idx].Add(step)
		left = left.Sub(step)
	}
	for i := range parts {
		parts[i] = parts[i].Mul(unit)
	}
	return parts, nil
}

// Prorate returns amount * num / den rounded to c, for day-based proration.
func Prorate(amount decimal.Decimal, num, den int64, c Currency) (decimal.Decimal, error) {
	if den <= 0 {
		return decimal.Decimal{}, fmt.Errorf("prorate: denominator must be positive, got %d", den)
	}
	return Round(amount.Mul(decimal.NewFromInt(num)).DivRound(decimal.NewFromInt(den), 24), c)
}
