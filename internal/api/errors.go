package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Error is revhub's one JSON error shape: {"error":{"code","field","reason","details"}}.
type Error struct {
	Status  int           `json:"-"`
	Code    string        `json:"code"`              // machine-readable, e.g. "invalid_field", "unauthorized"
	Field   string        `json:"field,omitempty"`   // JSON path of the offending input, if any
	Reason  string        `json:"reason"`            // human-readable explanation
	Details []ErrorDetail `json:"details,omitempty"` // every problem when there are several
}

// ErrorDetail is one problem of many, for example one bad event in a batch.
type ErrorDetail struct {
	Index  *int   `json:"index,omitempty"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Reason)
	}
	return e.Code + ": " + e.Reason
}

// Errorf builds an *Error.
func Errorf(status int, code, field, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// WriteError writes err as the JSON error shape; non-*Error values become a 500 without internals.
func WriteError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: http.StatusInternalServerError, Code: "internal", Reason: "internal error"}
	}
	if e.Status == 0 {
		e.Status = http.StatusBadRequest
	}
	WriteJSON(w, e.Status, struct {
		Error *Error `json:"error"`
	}{e})
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// DecodeJSON decodes a JSON request body into v, refusing unknown fields, trailing data and
// bodies over the server's size limit, with errors that name the field.
func DecodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return Errorf(http.StatusBadRequest, "invalid_json", "", "unexpected data after the JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var tooBig *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return Errorf(http.StatusRequestEntityTooLarge, "body_too_large", "", "request body exceeds %d bytes", tooBig.Limit)
	case errors.As(err, &syn):
		return Errorf(http.StatusBadRequest, "invalid_json", "", "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		return Errorf(http.StatusBadRequest, "invalid_field", typ.Field, "must be %s, got JSON %s", typ.Type, typ.Value)
	case errors.Is(err, io.EOF):
		return Errorf(http.StatusBadRequest, "invalid_json", "", "request body is empty")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Errorf(http.StatusBadRequest, "unknown_field", f, "is not a known field")
	default:
		return Errorf(http.StatusBadRequest, "invalid_json", "", "%v", err)
	}
}
