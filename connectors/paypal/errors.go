package paypal

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Error is a PayPal API error in either of PayPal's two shapes: the standard envelope
// {name, message, debug_id, details[]} or the OAuth shape {error, error_description}.
type Error struct {
	Status           int      `json:"-"`
	Name             string   `json:"name"`
	Message          string   `json:"message"`
	DebugID          string   `json:"debug_id"`
	Details          []Detail `json:"details"`
	OAuthError       string   `json:"error"`
	OAuthDescription string   `json:"error_description"`
}

// Detail is one entry of an error's details.
type Detail struct {
	Field       string `json:"field"`
	Value       string `json:"value"`
	Location    string `json:"location"`
	Issue       string `json:"issue"`
	Description string `json:"description"`
}

func (e *Error) Error() string {
	if e.OAuthError != "" {
		return fmt.Sprintf("paypal %d %s: %s", e.Status, e.OAuthError, e.OAuthDescription)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "paypal %d %s: %s", e.Status, e.Name, e.Message)
	for _, d := range e.Details {
		fmt.Fprintf(&b, "; %s", d.Issue)
		if d.Field != "" {
			fmt.Fprintf(&b, " at %s", d.Field)
		}
		if d.Description != "" {
			fmt.Fprintf(&b, " (%s)", d.Description)
		}
	}
	if e.DebugID != "" {
		fmt.Fprintf(&b, " [debug_id %s]", e.DebugID)
	}
	return b.String()
}

// Issue returns the first detail's issue (e.g. "INSTRUMENT_DECLINED"), or "".
func (e *Error) Issue() string {
	if len(e.Details) == 0 {
		return ""
	}
	return e.Details[0].Issue
}

// IsIssue reports whether err is a PayPal error whose details carry issue.
func IsIssue(err error, issue string) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	for _, d := range e.Details {
		if d.Issue == issue {
			return true
		}
	}
	return false
}

func parseError(status int, body []byte) *Error {
	e := &Error{Status: status}
	if json.Unmarshal(body, e) != nil || (e.Name == "" && e.OAuthError == "") {
		e.Name, e.Message = "UNEXPECTED_RESPONSE", fmt.Sprintf("HTTP %d with a body that is not a PayPal error", status)
	}
	return e
}
