package usage

import "encoding/json"

// member is one top-level member of an event's data object.
type member struct {
	key []byte // unescaped name; aliases the data unless it was written with escapes
	raw json.RawMessage
}

// members lists the top-level members of a JSON object that the batch decoder already validated,
// without allocating a map or copying values. It walks the object with the batch scanner's
// validating steps and leaves to encoding/json, which unescapes them, keys written with escapes
// and whatever the scanner gives up on (nesting beyond maxScanDepth).
func members(data json.RawMessage, buf []member) ([]member, error) {
	buf = buf[:0]
	if len(data) == 0 {
		return buf, nil
	}
	sc := scanner{b: data}
	i := sc.space(0)
	if sc.at(i) != '{' {
		return nil, errNotObject
	}
	if i = sc.space(i + 1); sc.at(i) == '}' {
		return buf, nil
	}
	for {
		if sc.at(i) != '"' {
			return membersSlow(data, buf)
		}
		end, flags := sc.str(i)
		if end < 0 || flags&strEscaped != 0 {
			return membersSlow(data, buf)
		}
		key := data[i+1 : end-1]
		if i = sc.space(end); sc.at(i) != ':' {
			return membersSlow(data, buf)
		}
		i = sc.space(i + 1)
		vend := sc.value(i, 0)
		if vend < 0 {
			return membersSlow(data, buf)
		}
		buf = append(buf, member{key: key, raw: data[i:vend]})
		switch i = sc.space(vend); sc.at(i) {
		case ',':
			i = sc.space(i + 1)
		case '}':
			return buf, nil
		default:
			return membersSlow(data, buf)
		}
	}
}

// membersSlow is members with encoding/json; it refuses anything but a JSON object.
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
