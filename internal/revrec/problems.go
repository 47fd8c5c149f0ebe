package revrec

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with an input, named by its field path.
type Problem struct {
	Field  string `json:"field"`  // JSON path such as obligations[1].end
	Reason string `json:"reason"` // what is wrong and what is expected
}

// InvalidArrangement lists every problem found in an arrangement or SSP table; it is permanent bad data.
type InvalidArrangement struct {
	Subject  string
	Problems []Problem
}

// Error lists every problem as "field: reason".
func (e *InvalidArrangement) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Reason
	}
	return fmt.Sprintf("%s: %d problem(s): %s", e.Subject, len(e.Problems), strings.Join(parts, "; "))
}

type problems []Problem

func (ps *problems) add(field, reason string) {
	*ps = append(*ps, Problem{Field: field, Reason: reason})
}

func (ps problems) err(subject string) error {
	if len(ps) == 0 {
		return nil
	}
	return &InvalidArrangement{Subject: subject, Problems: ps}
}
