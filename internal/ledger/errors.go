package ledger

import (
	"errors"
	"fmt"
	"strings"
)

// Problem is one reason an input was refused, naming the field by its path.
type Problem struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// InvalidError lists every problem found in an input at once.
type InvalidError struct {
	What     string    // what was validated, e.g. "entry invoice:inv_1:finalized"
	Problems []Problem // at least one
}

// Error joins the problems as "field: reason" pairs.
func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Reason
	}
	return fmt.Sprintf("invalid %s: %s", e.What, strings.Join(parts, "; "))
}

// problems collects validation problems and turns them into an *InvalidError.
type problems []Problem

func (ps *problems) add(field, format string, args ...any) {
	*ps = append(*ps, Problem{Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (ps problems) err(what string) error {
	if len(ps) == 0 {
		return nil
	}
	return &InvalidError{What: what, Problems: ps}
}

var (
	// ErrConflict means an entry with the same key but different content is already posted.
	ErrConflict = errors.New("ledger: an entry with this key and different content already exists")
	// ErrPeriodClosed means the entry's accounting period is closed.
	ErrPeriodClosed = errors.New("ledger: accounting period is closed")
	// ErrUnbalanced means PostgreSQL refused an entry whose postings do not sum to zero per currency.
	ErrUnbalanced = errors.New("ledger: entry does not balance")
	// ErrNotFound means no entry has the given key.
	ErrNotFound = errors.New("ledger: entry not found")
	// ErrNothingToPost means a business event has no ledger effect (every amount is zero).
	ErrNothingToPost = errors.New("ledger: nothing to post")
)
