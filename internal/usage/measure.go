package usage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// maxValueScale and maxValueDigits bound meter values so that every accepted value fits
// PostgreSQL numeric arithmetic without loss.
const (
	maxValueScale  = 18
	maxValueDigits = 38
)

// measure is what one meter reads from one event.
type measure struct {
	meter  *Meter
	value  amount // SUM, MAX, LATEST; 1 for COUNT
	unique string // UNIQUE_COUNT
	groups string // canonical JSON object of the group-by values
}

// measureScratch holds what measureEvent reuses from event to event of a batch.
type measureScratch struct {
	top    []member
	groups map[string]string // canonical group-by objects of the batch, built once each
	buf    []byte
}

// measureEvent reads every meter of the event's type, appending problems named by data path.
func measureEvent(i int, e *Event, meters []*Meter, out []measure, probs []Problem, sc *measureScratch) ([]measure, []Problem) {
	top, err := members(e.Data, sc.top[:0])
	if err != nil {
		return out, append(probs, Problem{Index: i, Field: "data", Reason: "must be a JSON object"})
	}
	sc.top = top // kept for the next event
	for _, m := range meters {
		ms := measure{meter: m}
		ok := true
		switch m.Aggregation {
		case Count:
			ms.value = amountInt(1)
		case UniqueCount:
			raw, err := m.value.lookup(top)
			if err != nil {
				probs = append(probs, pathProblem(i, m.value, err, "a string or number"))
				ok = false
				break
			}
			s, perr := scalarText(raw)
			if perr != "" {
				probs = append(probs, Problem{Index: i, Field: m.value.String(), Reason: perr})
				ok = false
				break
			}
			ms.unique = s
		default:
			raw, err := m.value.lookup(top)
			if err != nil {
				probs = append(probs, pathProblem(i, m.value, err, "a number"))
				ok = false
				break
			}
			d, reason := number(raw)
			if reason != "" {
				probs = append(probs, Problem{Index: i, Field: m.value.String(), Reason: reason})
				ok = false
				break
			}
			ms.value = d
		}
		groups, gp := groupValues(i, m, top, sc)
		if len(gp) > 0 {
			probs = append(probs, gp...)
			ok = false
		}
		if ok {
			ms.groups = groups
			out = append(out, ms)
		}
	}
	return out, probs
}

func pathProblem(i int, p Path, err error, want string) Problem {
	if errors.Is(err, errMissing) {
		return Problem{Index: i, Field: p.String(), Reason: "is required by meter and must be " + want}
	}
	return Problem{Index: i, Field: p.String(), Reason: "cannot be read: " + err.Error()}
}

// number parses a meter value: a JSON number or a string holding one.
func number(raw json.RawMessage) (amount, string) {
	if a, ok := parseAmount(raw); ok {
		return a, "" // a plain number of at most 18 digits: within every bound below
	}
	d, reason := numberSlow(raw)
	if reason != "" {
		return amount{}, reason
	}
	return amountOf(d), ""
}

// numberSlow is number for the values parseAmount does not take.
func numberSlow(raw json.RawMessage) (decimal.Decimal, string) {
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return decimal.Decimal{}, "must be a number"
		}
		s = strings.TrimSpace(s)
	} else if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return decimal.Decimal{}, fmt.Sprintf("must be a number, got %s", jsonKind(raw))
	}
	if s == "" || len(s) > 64 {
		return decimal.Decimal{}, "must be a number of at most 64 characters"
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Sprintf("must be a number, got %q", truncate(s))
	}
	if -d.Exponent() > maxValueScale && !d.Equal(d.Truncate(maxValueScale)) {
		return decimal.Decimal{}, fmt.Sprintf("has more than %d decimal places", maxValueScale)
	}
	d = d.Truncate(maxValueScale)
	if d.Abs().GreaterThanOrEqual(decimal.New(1, maxValueDigits-maxValueScale)) {
		return decimal.Decimal{}, fmt.Sprintf("must be less than 10^%d in magnitude", maxValueDigits-maxValueScale)
	}
	return d, ""
}

// scalarText renders a string, number or boolean as text; other JSON kinds are refused.
func scalarText(raw json.RawMessage) (string, string) {
	switch raw[0] {
	case '"':
		if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
			if len(raw)-2 > maxAttrLen {
				return "", fmt.Sprintf("is %d bytes long, at most %d allowed", len(raw)-2, maxAttrLen)
			}
			return string(raw[1 : len(raw)-1]), "" // nothing to unescape
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", "must be a valid JSON string"
		}
		if len(s) > maxAttrLen {
			return "", fmt.Sprintf("is %d bytes long, at most %d allowed", len(s), maxAttrLen)
		}
		return s, ""
	case '{', '[':
		return "", fmt.Sprintf("must be a string, number or boolean, got %s", jsonKind(raw))
	default:
		if len(raw) > maxAttrLen {
			return "", fmt.Sprintf("is %d bytes long, at most %d allowed", len(raw), maxAttrLen)
		}
		return string(raw), ""
	}
}

// appendJSONString appends s as a JSON string in one canonical form: only '"', '\\' and control
// characters are escaped, so equal values always give equal text.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// groupValues builds the canonical JSON object of a meter's group-by values for one event;
// a missing or null property groups as "". Equal objects of a batch share one string.
func groupValues(i int, m *Meter, top []member, sc *measureScratch) (string, []Problem) {
	if len(m.groups) == 0 {
		return "{}", nil
	}
	var probs []Problem
	b := bytes.NewBuffer(sc.buf[:0])
	b.WriteByte('{')
	for j, g := range m.groups {
		v := ""
		raw, err := g.path.lookup(top)
		switch {
		case errors.Is(err, errMissing):
		case err != nil:
			probs = append(probs, Problem{Index: i, Field: g.path.String(), Reason: "cannot be read: " + err.Error()})
		default:
			s, reason := scalarText(raw)
			if reason != "" {
				probs = append(probs, Problem{Index: i, Field: g.path.String(), Reason: reason})
			}
			v = s
		}
		if j > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(g.name) // names are [a-z0-9_]: nothing to escape
		b.WriteString(`":`)
		b.Write(appendJSONString(b.AvailableBuffer(), v))
	}
	b.WriteByte('}')
	sc.buf = b.Bytes()
	if s, ok := sc.groups[string(sc.buf)]; ok {
		return s, probs
	}
	s := string(sc.buf)
	if sc.groups == nil {
		sc.groups = map[string]string{}
	}
	if len(sc.groups) < maxInternedGroups {
		sc.groups[s] = s
	}
	return s, probs
}

// maxInternedGroups bounds the distinct group-by objects one batch shares.
const maxInternedGroups = 4096
