package invoice

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is returned when no invoice or credit note has the requested id.
var ErrNotFound = errors.New("invoice: not found")

// Problem is one invalid input field: its JSON path and the reason.
type Problem struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// ValidationError lists every problem found in one input, all at once.
type ValidationError struct {
	What     string // what was validated, e.g. "draft" or "credit note"
	Problems []Problem
}

// Error implements error.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Reason
	}
	return fmt.Sprintf("invoice: invalid %s: %s", e.What, strings.Join(parts, "; "))
}

// problems collects validation problems.
type problems []Problem

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, Problem{Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (p problems) err(what string) error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{What: what, Problems: p}
}

// ConflictError says an idempotency key was reused with different content.
type ConflictError struct {
	Key string
}

// Error implements error.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("invoice: idempotency key %q was already used with different content", e.Key)
}

// RuleError is a business rule refusing an otherwise well-formed request, naming the field.
type RuleError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *RuleError) Error() string {
	if e.Field == "" {
		return "invoice: " + e.Reason
	}
	return "invoice: " + e.Field + ": " + e.Reason
}
