package recon

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// Status is what a check means for the close.
type Status string

// Statuses. Only StatusBlocked stops the close; StatusApproved is a blocked check whose blocking
// differences (or the whole check) were approved by a person.
const (
	StatusGreen           Status = "green"            // no differences
	StatusWithinTolerance Status = "within_tolerance" // differences, all within the tolerance
	StatusBlocked         Status = "blocked"          // differences beyond the tolerance: the close waits
	StatusApproved        Status = "approved"         // blocked, then approved with an audited reason
)

// Blocks reports whether the status stops the close.
func (s Status) Blocks() bool { return s == StatusBlocked }

// Evaluate classifies a check against a tolerance: green, within_tolerance or blocked.
func Evaluate(c Check, t Tolerance) Status {
	return evaluate(c.Differences, t)
}

func evaluate(diffs []Difference, t Tolerance) Status {
	if len(diffs) == 0 {
		return StatusGreen
	}
	if len(breaches(diffs, t)) > 0 {
		return StatusBlocked
	}
	return StatusWithinTolerance
}

// Breaches explains, one line per limit, why a check is beyond its tolerance; empty when it is not.
// A duplicate key always blocks: it means one side counts something twice.
func Breaches(c Check, t Tolerance) []string {
	return breaches(c.Differences, t)
}

func breaches(diffs []Difference, t Tolerance) []string {
	var out []string
	dups := 0
	abs := map[money.Currency]decimal.Decimal{}
	for _, d := range diffs {
		if d.Kind == KindDuplicateKey {
			dups++
		}
		abs[d.Currency] = abs[d.Currency].Add(d.Delta.Abs())
	}
	if dups > 0 {
		out = append(out, fmt.Sprintf("%d duplicate key(s): duplicates always block", dups))
	}
	if len(diffs) > t.MaxDifferences {
		out = append(out, fmt.Sprintf("%d difference(s), tolerance allows %d", len(diffs), t.MaxDifferences))
	}
	for _, c := range sortedCurrencies(abs) {
		allowed := t.Amounts[c]
		if abs[c].GreaterThan(allowed) {
			out = append(out, fmt.Sprintf("%s: differences total %s in absolute value, tolerance allows %s", c, abs[c], allowed))
		}
	}
	return out
}
