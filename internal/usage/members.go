package usage

import (
	"bytes"
	"encoding/json"
	"errors"
)

// member is one top-level member of an event's data object.
type member struct {
	key []byte // unescaped name; aliases the data unless it was written with escapes
	raw json.RawMessage
}

// members lists the top-level members of a JSON object that the batch decoder already validated,
// without allocating a map or copying values; a key written with escapes falls back to
// encoding/json, which unescapes it.
func members(data json.RawMessage, buf []member) ([]member, error) {
	buf = buf[:0]
	if len(data) == 0 {
		return buf, nil
	}
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, errNotObject
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return buf, nil
	}
	for i < len(data) {
		if data[i] != '"' {
			return nil, errBadJSON
		}
		end, escaped := stringEnd(data, i)
		if end < 0 {
			return nil, errBadJSON
		}
		if escaped {
			return membersSlow(data, buf)
		}
		key := data[i+1 : end-1]
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, errBadJSON
		}
		i = skipSpace(data, i+1)
		vend := valueEnd(data, i)
		if vend < 0 {
			return nil, errBadJSON
		}
		buf = append(buf, member{key: key, raw: data[i:vend]})
		i = skipSpace(data, vend)
		if i >= len(data) {
			return nil, errBadJSON
		}
		if data[i] == '}' {
			return buf, nil
		}
		if data[i] != ',' {
			return nil, errBadJSON
		}
		i = skipSpace(data, i+1)
	}
	return nil, errBadJSON
}

var errBadJSON = errors.New("is not valid JSON")

func membersSlow(data json.RawMessage, buf []member) ([]member, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, errNotObject
	}
	buf = buf[:0]
	for k, v := range m {
		buf = append(buf, member{key: []byte(k), raw: v})
	}
	return buf, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the closing quote of the string starting at b[i], and whether
// it holds escapes; -1 if unterminated.
func stringEnd(b []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return -1, escaped
}

// valueEnd returns the index after the JSON value starting at b[i], or -1.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		end, _ := stringEnd(b, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _ := stringEnd(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default: // number, true, false, null
		j := i
		for j < len(b) && !bytes.ContainsRune([]byte(",}] \t\r\n"), rune(b[j])) {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}

// get returns the raw value of the member named key; of a name given twice, the last one, which
// is the one PostgreSQL's jsonb keeps (and Readings reads back).
func get(ms []member, key string) (json.RawMessage, bool) {
	for i := len(ms) - 1; i >= 0; i-- {
		if string(ms[i].key) == key {
			return ms[i].raw, true
		}
	}
	return nil, false
}
