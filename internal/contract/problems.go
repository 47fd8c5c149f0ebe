package contract

import (
	"fmt"
	"strings"
)

// Problem is one defect of a contract document: the JSON path of the field and the reason.
type Problem struct {
	Path   string `json:"field"`
	Reason string `json:"reason"`
}

// Problems is every defect found in a contract document; it is the error Validate returns.
type Problems []Problem

// ErrorType is the searchable type name used when a contract problem is a non-retryable workflow error.
const ErrorType = "InvalidContract"

// Add records a problem at path.
func (p *Problems) Add(path, format string, args ...any) {
	*p = append(*p, Problem{Path: path, Reason: fmt.Sprintf(format, args...)})
}

// Error lists every problem, one "path: reason" per line.
func (p Problems) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid contract: %d problem(s)", len(p))
	for _, x := range p {
		b.WriteString("\n  ")
		b.WriteString(x.Path)
		b.WriteString(": ")
		b.WriteString(x.Reason)
	}
	return b.String()
}

// Err returns p as an error, or nil when there are no problems.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return p
}
