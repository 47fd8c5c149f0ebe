// Package activities holds revhub's Temporal activities: thin structs per concept whose methods
// take a validated Input and return an Output, calling internal/*, mappings and connectors.
// Every write path is idempotent under retry (keys derived from the business event), and
// permanent bad input is returned as a non-retryable application error with a searchable type.
package activities

import (
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
)

// Non-retryable error types (kept equal to the names in package workflows).
const (
	ErrInvalidInput     = "InvalidInput"
	ErrInvalidContract  = "InvalidContract"
	ErrUnmappableDeal   = "UnmappableDeal"
	ErrKeyConflict      = "IdempotencyConflict"
	ErrInvoiceStateRule = "InvoiceStateRule"
)

// permanent wraps err as a non-retryable application error of the given type.
func permanent(typ string, err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), typ, err)
}

// invalid reports a bad Input field as a non-retryable InvalidInput error.
func invalid(field, format string, args ...any) error {
	return permanent(ErrInvalidInput, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

// invalidAll reports every problem of an Input ("field: reason") at once as one non-retryable
// InvalidInput error; nil when there is none.
func invalidAll(probs []string) error {
	if len(probs) == 0 {
		return nil
	}
	return permanent(ErrInvalidInput, errors.New(strings.Join(probs, "; ")))
}

// asPermanent turns errors of the listed kinds into non-retryable ones and leaves others retryable.
func asPermanent(err error, typ string, targets ...any) error {
	for _, t := range targets {
		if errors.As(err, t) {
			return permanent(typ, err)
		}
	}
	return err
}
