// Package problem reports invalid input the revhub way: every problem at once, each naming the
// field by its path and the reason.
package problem

import (
	"fmt"
	"strings"
)

// Problem is one reason an input was refused, naming the field by its path.
type Problem struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Error lists every problem found in an input at once.
type Error struct {
	Prefix   string    // the package reporting it, e.g. "recon"; empty for none
	What     string    // what was validated, e.g. "check invoices_vs_ledger"
	Problems []Problem // at least one
}

// Error joins the problems as "field: reason" pairs.
func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Reason
	}
	msg := fmt.Sprintf("invalid %s: %s", e.What, strings.Join(parts, "; "))
	if e.Prefix != "" {
		msg = e.Prefix + ": " + msg
	}
	return msg
}

// List collects problems and turns them into an *Error.
type List []Problem

// Add records a problem of field.
func (l *List) Add(field, format string, args ...any) {
	*l = append(*l, Problem{Field: field, Reason: fmt.Sprintf(format, args...)})
}

// Err returns nil without problems, else an *Error naming what was validated.
func (l List) Err(prefix, what string) error {
	if len(l) == 0 {
		return nil
	}
	return &Error{Prefix: prefix, What: what, Problems: l}
}
