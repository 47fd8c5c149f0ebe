package usage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxBatch is the largest number of events one batch may hold.
const MaxBatch = 10000

// maxAttrLen bounds id, source, type and subject.
const maxAttrLen = 256

// wireEvent is the CloudEvents JSON shape; unknown attributes (extensions) are ignored.
type wireEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject"`
	Time            string          `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
	DataBase64      json.RawMessage `json:"data_base64"`
}

// DecodeBatch decodes a CloudEvents JSON batch (an array of events) and checks each event's
// attributes. It returns every problem at once as an *InvalidError; the events are then still
// returned (those named in a problem are incomplete) so callers may check the others further.
func DecodeBatch(body []byte) ([]Event, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '[' {
		return nil, &InvalidError{Problems: []Problem{{Index: -1, Field: "body", Reason: "must be a JSON array of CloudEvents"}}}
	}
	if events, probs, ok := scanBatch(body); ok {
		return checked(events, probs)
	}
	return decodeBatchJSON(body)
}

// decodeBatchJSON is DecodeBatch with encoding/json, for the bodies the scanner leaves to it; it
// is the reference the scanner must agree with.
func decodeBatchJSON(body []byte) ([]Event, error) {
	var wire []wireEvent
	if err := json.Unmarshal(body, &wire); err != nil {
		return slowBatch(body, err)
	}
	return finish(wire)
}

// DecodeOne decodes a single CloudEvents JSON event (structured mode) and checks its attributes.
func DecodeOne(body []byte) (Event, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return Event{}, &InvalidError{Events: 1, Problems: []Problem{{Index: 0, Field: "body", Reason: "must be a JSON object (a CloudEvent)"}}}
	}
	w, ok := scanOne(body)
	if !ok {
		return decodeOneJSON(body)
	}
	return finishOne(w)
}

// decodeOneJSON is DecodeOne with encoding/json, for the bodies the scanner leaves to it; it is
// the reference the scanner must agree with.
func decodeOneJSON(body []byte) (Event, error) {
	var w wireEvent
	if err := json.Unmarshal(body, &w); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return Event{}, &InvalidError{Events: 1, Problems: []Problem{{Index: 0, Field: "body", Reason: fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn)}}}
		}
		probs := typeProblems(0, body)
		if len(probs) == 0 {
			// A mistyped attribute whose name matched only case-insensitively (`{"ID":7}`):
			// typeProblems looks up exact names. Say what encoding/json said, as DecodeBatch does.
			probs = []Problem{{Index: 0, Field: "body", Reason: fmt.Sprintf("cannot decode: %v", err)}}
		}
		return Event{}, &InvalidError{Events: 1, Problems: probs}
	}
	return finishOne(w)
}

// finishOne checks the attributes of a single event.
func finishOne(w wireEvent) (Event, error) {
	var e Event
	if probs := convert(0, &w, &e, nil); len(probs) > 0 {
		return Event{}, &InvalidError{Events: 1, Problems: probs}
	}
	return e, nil
}

func finish(wire []wireEvent) ([]Event, error) {
	if len(wire) == 0 {
		return nil, &InvalidError{Problems: []Problem{{Index: -1, Field: "body", Reason: "batch is empty"}}}
	}
	if len(wire) > MaxBatch {
		return nil, &InvalidError{Events: len(wire), Problems: []Problem{{Index: -1, Field: "body", Reason: fmt.Sprintf("batch holds %d events, at most %d allowed", len(wire), MaxBatch)}}}
	}
	out := make([]Event, len(wire))
	var probs []Problem
	for i := range wire {
		probs = convert(i, &wire[i], &out[i], probs)
	}
	return checked(out, probs)
}

// checked returns the converted events of a batch, with their problems as an *InvalidError.
func checked(out []Event, probs []Problem) ([]Event, error) {
	if len(probs) > 0 {
		return out, &InvalidError{Events: len(out), Problems: probs}
	}
	return out, nil
}

// convert checks one wire event and fills e, appending problems.
func convert(i int, w *wireEvent, e *Event, probs []Problem) []Problem {
	bad := func(field, reason string) { probs = append(probs, Problem{Index: i, Field: field, Reason: reason}) }
	if w.SpecVersion != "1.0" {
		if w.SpecVersion == "" {
			bad("specversion", "is required and must be \"1.0\"")
		} else {
			bad("specversion", fmt.Sprintf("must be \"1.0\", got %q", truncate(w.SpecVersion)))
		}
	}
	attr := func(field, v string) {
		switch {
		case v == "":
			bad(field, "is required")
		case len(v) > maxAttrLen:
			bad(field, fmt.Sprintf("is %d bytes long, at most %d allowed", len(v), maxAttrLen))
		case strings.IndexByte(v, 0) >= 0:
			bad(field, "must not contain NUL characters")
		case !cleanUTF8(v):
			bad(field, "must be valid UTF-8")
		}
	}
	attr("id", w.ID)
	attr("source", w.Source)
	attr("type", w.Type)
	attr("subject", w.Subject)
	if w.Time == "" {
		bad("time", "is required (RFC 3339, e.g. 2026-11-24T10:00:00Z)")
	} else if t, err := time.Parse(time.RFC3339Nano, w.Time); err != nil {
		bad("time", fmt.Sprintf("must be an RFC 3339 timestamp, got %q", truncate(w.Time)))
	} else if t.Year() < 2000 || t.Year() > 9999 {
		bad("time", "must be between the years 2000 and 9999")
	} else {
		e.Time = t.UTC()
	}
	if ct := w.DataContentType; ct != "" && ct != "application/json" && !strings.HasPrefix(ct, "application/json;") {
		bad("datacontenttype", fmt.Sprintf("must be application/json, got %q", truncate(ct)))
	}
	if len(w.DataBase64) > 0 && !bytes.Equal(w.DataBase64, []byte("null")) {
		bad("data_base64", "binary data is not supported: send JSON in data")
	}
	data := bytes.TrimSpace(w.Data)
	switch {
	case len(data) == 0 || bytes.Equal(data, []byte("null")):
		data = nil
	default:
		if reason := dataProblem(data); reason != "" {
			bad("data", reason)
		}
	}
	e.ID, e.Source, e.Type, e.Subject = w.ID, w.Source, w.Type, w.Subject
	e.SpecVersion, e.DataContentType, e.Data = w.SpecVersion, w.DataContentType, data
	return probs
}

// slowBatch explains a batch that encoding/json refused: a syntax error for the whole body, or
// each event's problems (mistyped attributes included).
func slowBatch(body []byte, err error) ([]Event, error) {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return nil, &InvalidError{Problems: []Problem{{Index: -1, Field: "body", Reason: fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn)}}}
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, &InvalidError{Problems: []Problem{{Index: -1, Field: "body", Reason: "must be a JSON array of CloudEvents"}}}
	}
	if len(raws) > MaxBatch {
		return nil, &InvalidError{Events: len(raws), Problems: []Problem{{Index: -1, Field: "body", Reason: fmt.Sprintf("batch holds %d events, at most %d allowed", len(raws), MaxBatch)}}}
	}
	out := make([]Event, len(raws))
	var probs []Problem
	for i, raw := range raws {
		var w wireEvent
		if json.Unmarshal(raw, &w) != nil {
			probs = append(probs, typeProblems(i, raw)...)
			continue
		}
		probs = convert(i, &w, &out[i], probs)
	}
	if len(probs) == 0 {
		probs = []Problem{{Index: -1, Field: "body", Reason: fmt.Sprintf("cannot decode: %v", err)}}
	}
	return out, &InvalidError{Events: len(raws), Problems: probs}
}

// typeProblems reports the attributes of one event that have the wrong JSON type.
func typeProblems(i int, raw json.RawMessage) []Problem {
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(raw, &attrs); err != nil || attrs == nil {
		return []Problem{{Index: i, Field: "event", Reason: "must be a JSON object (a CloudEvent)"}}
	}
	var probs []Problem
	for _, name := range attrNames[:stringAttrs] {
		v, ok := attrs[name]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			probs = append(probs, Problem{Index: i, Field: name, Reason: fmt.Sprintf("must be a JSON string, got %s", jsonKind(v))})
		}
	}
	return probs
}

// cleanUTF8 reports whether s is valid UTF-8 without U+FFFD (what encoding/json puts in place of
// invalid bytes).
func cleanUTF8(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			s = s[i:]
			return utf8.ValidString(s) && !strings.Contains(s, string(utf8.RuneError))
		}
	}
	return true
}

func jsonKind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// dataProblem says why data cannot be stored as PostgreSQL jsonb, or "".
func dataProblem(data []byte) string {
	switch {
	case data[0] != '{':
		return "must be a JSON object"
	case bytes.Contains(data, []byte(`\u0000`)):
		return "must not contain NUL characters (\\u0000)"
	case !utf8.Valid(data):
		return "must be valid UTF-8"
	case loneSurrogate(data):
		return "must not contain unpaired UTF-16 surrogate escapes"
	}
	return ""
}

// loneSurrogate reports a \uD800-\uDFFF escape that is not a high surrogate followed by a low
// one (PostgreSQL's jsonb refuses those).
func loneSurrogate(b []byte) bool {
	for i := 0; i+5 < len(b); i++ {
		if b[i] != '\\' {
			j := bytes.IndexByte(b[i:], '\\')
			if j < 0 {
				return false
			}
			i += j
			if i+5 >= len(b) {
				return false
			}
		}
		if b[i+1] != 'u' {
			i++ // skip the escaped character (it may be a backslash)
			continue
		}
		v, ok := hex4(b[i+2:])
		switch {
		case !ok || v < 0xD800 || v > 0xDFFF:
		case v >= 0xDC00:
			return true // a low surrogate first
		default:
			if i+11 >= len(b) || b[i+6] != '\\' || b[i+7] != 'u' {
				return true
			}
			if lo, ok := hex4(b[i+8:]); !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 6
		}
		i += 5
	}
	return false
}

func hex4(b []byte) (int, bool) {
	if len(b) < 4 {
		return 0, false
	}
	v := 0
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v*16 + int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v*16 + int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
