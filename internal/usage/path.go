package usage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Path is a JSON path into an event's data: "$.a.b" (or "a.b"), object members only.
type Path []string

// ParsePath parses "$.usage.tokens", "usage.tokens" or "$['usage']['tokens']"-free dotted paths.
func ParsePath(s string) (Path, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "$"), ".")
	if t == "" {
		return nil, errors.New("must be a JSON path such as $.tokens")
	}
	parts := strings.Split(t, ".")
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p, "[]*$ '\"") {
			return nil, fmt.Errorf("must be a dotted JSON path of member names such as $.usage.tokens, got %q", truncate(s))
		}
	}
	return Path(parts), nil
}

// String renders the path as the field name used in problems, e.g. "data.usage.tokens".
func (p Path) String() string { return "data." + strings.Join(p, ".") }

// errMissing reports a path whose member does not exist.
var errMissing = errors.New("missing")

// errNotObject reports a path that goes through something other than an object.
var errNotObject = errors.New("is not a JSON object")

// lookup finds the raw JSON value at p given data's top-level members.
func (p Path) lookup(top []member) (json.RawMessage, error) {
	cur, ok := get(top, p[0])
	if !ok {
		return nil, errMissing
	}
	var inner []member
	for _, name := range p[1:] {
		var err error
		if inner, err = members(cur, inner); err != nil {
			return nil, err
		}
		if cur, ok = get(inner, name); !ok {
			return nil, errMissing
		}
	}
	if len(cur) == 0 || bytes.Equal(cur, []byte("null")) {
		return nil, errMissing
	}
	return cur, nil
}
