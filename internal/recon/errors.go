package recon

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
	What     string    // what was validated, e.g. "check invoices_vs_ledger"
	Problems []Problem // at least one
}

// Error joins the problems as "field: reason" pairs.
func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Reason
	}
	return fmt.Sprintf("recon: invalid %s: %s", e.What, strings.Join(parts, "; "))
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
	// ErrConflict means a result for the same run, check and attempt was saved with other content.
	ErrConflict = errors.New("recon: a result for this run, check and attempt was already saved with different content")
	// ErrNotFound means no result exists for the run and check.
	ErrNotFound = errors.New("recon: no result for this run and check")
	// ErrAlreadyDecided means the check or difference was already approved by someone else or for another reason.
	ErrAlreadyDecided = errors.New("recon: already approved")
	// ErrNotBlocked means an approval was asked for a check that does not block the close.
	ErrNotBlocked = errors.New("recon: the check does not block the close; nothing to approve")
)
