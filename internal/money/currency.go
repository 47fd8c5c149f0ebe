// Package money owns currencies, the one rounding rule and largest-remainder allocation.
// Nothing else in revhub rounds money: every package calls into this one.
package money

import (
	"fmt"
	"strings"
)

// Currency is an ISO 4217 alphabetic code such as "USD".
type Currency string

// minorUnits is the number of decimal places of each supported ISO 4217 currency.
var minorUnits = map[Currency]int32{
	"AED": 2, "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2,
	"CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2,
	"INR": 2, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "MXN": 2, "MYR": 2,
	"NOK": 2, "NZD": 2, "OMR": 3, "PHP": 2, "PLN": 2, "SAR": 2, "SEK": 2, "SGD": 2,
	"THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "UGX": 0, "USD": 2, "VND": 0, "XAF": 0,
	"XOF": 0, "ZAR": 2,
}

// ParseCurrency validates an ISO 4217 code and returns it upper-cased.
func ParseCurrency(s string) (Currency, error) {
	c := Currency(strings.ToUpper(strings.TrimSpace(s)))
	if _, ok := minorUnits[c]; !ok {
		return "", fmt.Errorf("currency %q: not a supported ISO 4217 code with known minor units", s)
	}
	return c, nil
}

// MinorUnits returns the number of decimal places of c, or an error for an unknown currency.
func (c Currency) MinorUnits() (int32, error) {
	n, ok := minorUnits[c]
	if !ok {
		return 0, fmt.Errorf("currency %q: not a supported ISO 4217 code with known minor units", string(c))
	}
	return n, nil
}

// Valid reports whether c is a supported currency.
func (c Currency) Valid() bool {
	_, ok := minorUnits[c]
	return ok
}

// String returns the ISO code.
func (c Currency) String() string { return string(c) }
