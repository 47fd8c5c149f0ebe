package salesforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Salesforce error codes the connector reacts to.
const (
	CodeInvalidSession       = "INVALID_SESSION_ID"
	CodeRequestLimitExceeded = "REQUEST_LIMIT_EXCEEDED"
	CodeInvalidGrant         = "invalid_grant"
)

// APIError is an error answered by Salesforce: the HTTP status and the first entry of its error array.
type APIError struct {
	Status    int
	ErrorCode string
	Message   string
	Fields    []string
	// More holds the further entries of the error array, if Salesforce sent several.
	More []APIError
}

// Error renders the status, code, message and fields; it never contains request credentials.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "salesforce: HTTP %d %s: %s", e.Status, e.ErrorCode, e.Message)
	if len(e.Fields) > 0 {
		fmt.Fprintf(&b, " (fields: %s)", strings.Join(e.Fields, ", "))
	}
	for _, m := range e.More {
		fmt.Fprintf(&b, "; %s: %s", m.ErrorCode, m.Message)
	}
	return b.String()
}

// Temporary reports whether retrying later may succeed (limits, locks, server faults).
func (e *APIError) Temporary() bool {
	switch {
	case e.Status == 429, e.Status >= 500:
		return true
	case e.ErrorCode == CodeRequestLimitExceeded, e.ErrorCode == "UNABLE_TO_LOCK_ROW":
		return true
	}
	return false
}

// IsCode reports whether err is an *APIError with the given Salesforce error code.
func IsCode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.ErrorCode == code
}

type errorItem struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields"`
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// parseAPIError reads a Salesforce error body: the REST error array, or the OAuth {error, error_description} object.
func parseAPIError(status int, body []byte) *APIError {
	var items []errorItem
	if err := json.Unmarshal(body, &items); err == nil && len(items) > 0 {
		ae := &APIError{Status: status, ErrorCode: items[0].ErrorCode, Message: items[0].Message, Fields: items[0].Fields}
		for _, it := range items[1:] {
			ae.More = append(ae.More, APIError{Status: status, ErrorCode: it.ErrorCode, Message: it.Message, Fields: it.Fields})
		}
		return ae
	}
	var oe oauthError
	if err := json.Unmarshal(body, &oe); err == nil && oe.Error != "" {
		return &APIError{Status: status, ErrorCode: oe.Error, Message: oe.Description}
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg == "" {
		msg = "empty error body"
	}
	return &APIError{Status: status, ErrorCode: "UNKNOWN", Message: msg}
}
