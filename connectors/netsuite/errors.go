package netsuite

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrorDetail is one element of NetSuite's "o:errorDetails" array.
type ErrorDetail struct {
	Detail    string `json:"detail"`
	ErrorCode string `json:"o:errorCode"`
	ErrorPath string `json:"o:errorPath,omitempty"`
}

// APIError is NetSuite's REST error body: {type, title, status, o:errorDetails[]}.
type APIError struct {
	Type    string        `json:"type"`
	Title   string        `json:"title"`
	Status  int           `json:"status"`
	Details []ErrorDetail `json:"o:errorDetails"`
}

// Error renders status, codes, paths and details (NetSuite's texts hold no secrets).
func (e *APIError) Error() string {
	parts := make([]string, 0, len(e.Details))
	for _, d := range e.Details {
		s := d.ErrorCode
		if d.ErrorPath != "" {
			s += " at " + d.ErrorPath
		}
		parts = append(parts, s+": "+d.Detail)
	}
	return fmt.Sprintf("netsuite %d %s: %s", e.Status, e.Title, strings.Join(parts, "; "))
}

// HasCode reports whether any detail carries the error code.
func (e *APIError) HasCode(code string) bool {
	for _, d := range e.Details {
		if d.ErrorCode == code {
			return true
		}
	}
	return false
}

// ErrorCode returns the NetSuite error code of err ("USER_ERROR", "INVALID_LOGIN"...), or "".
func ErrorCode(err error) string {
	var ae *APIError
	if errors.As(err, &ae) && len(ae.Details) > 0 {
		return ae.Details[0].ErrorCode
	}
	return ""
}

// parseError reads an error body; a body that is not NetSuite's shape still yields the status.
func parseError(status int, body []byte) *APIError {
	var ae APIError
	if err := json.Unmarshal(body, &ae); err != nil || len(ae.Details) == 0 {
		snippet := strings.TrimSpace(string(body))
		if len(snippet) > 200 {
			snippet = snippet[:200]
		}
		return &APIError{Status: status, Title: "unexpected response", Details: []ErrorDetail{{Detail: snippet, ErrorCode: "HTTP_" + fmt.Sprint(status)}}}
	}
	if ae.Status == 0 {
		ae.Status = status
	}
	return &ae
}
