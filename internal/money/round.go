package money

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// RoundingMode names the single rounding rule revhub applies to money: half away from zero
// ("commercial rounding"), applied once per invoice line at the currency's minor unit.
const RoundingMode = "half-away-from-zero"

// Round rounds amount to the minor unit of c, half away from zero.
func Round(amount decimal.Decimal, c Currency) (decimal.Decimal, error) {
	n, err := c.MinorUnits()
	if err != nil {
		return decimal.Decimal{}, err
	}
	return amount.Round(n), nil
}

// MustRound is Round for currencies already validated; it panics on an unknown currency.
func MustRound(amount decimal.Decimal, c Currency) decimal.Decimal {
	r, err := Round(amount, c)
	if err != nil {
		panic(err)
	}
	return r
}

// IsRounded reports whether amount has no digits beyond the minor unit of c.
func IsRounded(amount decimal.Decimal, c Currency) bool {
	n, err := c.MinorUnits()
	if err != nil {
		return false
	}
	return amount.Equal(amount.Round(n))
}

// MinorToDecimal converts an integer amount in minor units (cents) to a decimal amount.
func MinorToDecimal(minor int64, c Currency) (decimal.Decimal, error) {
	n, err := c.MinorUnits()
	if err != nil {
		return decimal.Decimal{}, err
	}
	return decimal.New(minor, -n), nil
}

// DecimalToMinor converts a rounded decimal amount to integer minor units; it refuses unrounded input.
func DecimalToMinor(amount decimal.Decimal, c Currency) (int64, error) {
	n, err := c.MinorUnits()
	if err != nil {
		return 0, err
	}
	if !amount.Equal(amount.Round(n)) {
		return 0, fmt.Errorf("amount %s: has more than %d decimal places for %s", amount, n, c)
	}
	return amount.Shift(n).IntPart(), nil
}
