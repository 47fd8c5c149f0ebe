package fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// fieldRef is a resolved field path: a field of the queried object, or of a parent through a relationship.
type fieldRef struct {
	rel    string // canonical relationship name, "" for a direct field
	relFK  string
	target string
	name   string // canonical field name
	f      field
}

// resolve finds a (possibly dotted) field on object typ, case-insensitively as SOQL does.
func (st *store) resolve(typ, path, q string) (fieldRef, *soqlError) {
	o := st.schema[typ]
	parts := strings.Split(path, ".")
	switch len(parts) {
	case 1:
		name, f, ok := lookupField(o, parts[0])
		if !ok {
			return fieldRef{}, noSuchColumn(q, path, typ)
		}
		return fieldRef{name: name, f: f}, nil
	case 2:
		for relName, rel := range o.relations {
			if strings.EqualFold(relName, parts[0]) {
				name, f, ok := lookupField(st.schema[rel.target], parts[1])
				if !ok {
					return fieldRef{}, noSuchColumn(q, parts[1], rel.target)
				}
				return fieldRef{rel: relName, relFK: rel.fk, target: rel.target, name: name, f: f}, nil
			}
		}
		return fieldRef{}, &soqlError{code: "INVALID_FIELD", msg: fmt.Sprintf("\n%s\nDidn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", q, parts[0])}
	}
	return fieldRef{}, &soqlError{code: "INVALID_FIELD", msg: fmt.Sprintf("\n%s\nfield path '%s' is deeper than this fake supports", q, path)}
}

func lookupField(o *object, name string) (string, field, bool) {
	for k, f := range o.fields {
		if strings.EqualFold(k, name) {
			return k, f, true
		}
	}
	return "", field{}, false
}

func noSuchColumn(q, col, typ string) *soqlError {
	return &soqlError{code: "INVALID_FIELD", msg: fmt.Sprintf("\n%s\nNo such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", q, col, typ)}
}

// value returns the value of ref on rec (following the relationship), and whether the parent exists.
func (st *store) value(rec Record, ref fieldRef) any {
	if ref.rel == "" {
		return rec[ref.name]
	}
	parent, ok := st.get(ref.target, str(rec[ref.relFK]))
	if !ok {
		return nil
	}
	return parent[ref.name]
}

// literalFits reports whether a literal may be compared with a field of type t.
func literalFits(t fieldType, l literal) bool {
	if l.kind == litNull {
		return true
	}
	switch t {
	case tBool:
		return l.kind == litBool
	case tNumber:
		return l.kind == litNumber
	case tDate:
		return l.kind == litDate
	case tDatetime:
		return l.kind == litDatetime || l.kind == litDate
	}
	return l.kind == litString
}

// compare orders a stored value against a literal: -1, 0, 1; ok=false when they cannot be compared (nulls).
func compare(t fieldType, v any, l literal) (int, bool) {
	if v == nil || l.kind == litNull {
		return 0, false
	}
	switch t {
	case tBool:
		b, _ := v.(bool)
		if (l.text == "true") == b {
			return 0, true
		}
		return 1, true
	case tNumber:
		d, ok := num(v)
		if !ok {
			return 0, false
		}
		return d.Cmp(l.num), true
	case tDatetime:
		tv, err := time.Parse(datetimeLayout, str(v))
		if err != nil {
			return 0, false
		}
		// Salesforce ignores milliseconds when it compares datetimes.
		return tv.Truncate(time.Second).Compare(l.t.Truncate(time.Second)), true
	case tDate:
		return strings.Compare(str(v), l.text), true
	case tID, tRef:
		a, b := str(v), l.text
		if len(b) == 15 && validID(b) {
			b = caseSafeID(b)
		}
		return strings.Compare(a, b), true
	}
	return strings.Compare(strings.ToLower(str(v)), strings.ToLower(l.text)), true
}

func matches(t fieldType, v any, c cond) bool {
	switch c.op {
	case "IN", "NOTIN":
		in := false
		for _, l := range c.values {
			if l.kind == litNull && v == nil {
				in = true
			} else if r, ok := compare(t, v, l); ok && r == 0 {
				in = true
			}
		}
		return in == (c.op == "IN")
	}
	l := c.values[0]
	if l.kind == litNull {
		return (c.op == "=") == (v == nil)
	}
	r, ok := compare(t, v, l)
	if !ok {
		return c.op == "!="
	}
	switch c.op {
	case "=":
		return r == 0
	case "!=":
		return r != 0
	case "<":
		return r < 0
	case "<=":
		return r <= 0
	case ">":
		return r > 0
	}
	return r >= 0
}

// orderValues compares two stored values of type t for ORDER BY; nil sorts per nullsFirst.
func orderValues(t fieldType, a, b any) int {
	switch t {
	case tNumber:
		da, _ := num(a)
		db, _ := num(b)
		return da.Cmp(db)
	case tBool:
		ba, _ := a.(bool)
		bb, _ := b.(bool)
		switch {
		case ba == bb:
			return 0
		case !ba:
			return -1
		}
		return 1
	case tString, tPicklist:
		return strings.Compare(strings.ToLower(str(a)), strings.ToLower(str(b)))
	}
	return strings.Compare(str(a), str(b)) // ids, dates and datetimes sort as text
}

// run executes a parsed query and renders every matching record in SELECT order.
func (st *store) run(q string, sq *soqlQuery, apiVersion string) ([]json.RawMessage, *soqlError) {
	typ := ""
	for name := range st.schema {
		if strings.EqualFold(name, sq.object) {
			typ = name
		}
	}
	if typ == "" {
		return nil, &soqlError{code: "INVALID_TYPE", msg: fmt.Sprintf("\n%s\nsObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", q, sq.object)}
	}
	sel := make([]fieldRef, len(sq.fields))
	for i, f := range sq.fields {
		ref, err := st.resolve(typ, f, q)
		if err != nil {
			return nil, err
		}
		sel[i] = ref
	}
	where := make([]fieldRef, len(sq.where))
	for i, c := range sq.where {
		ref, err := st.resolve(typ, c.field, q)
		if err != nil {
			return nil, err
		}
		for _, l := range c.values {
			if !literalFits(ref.f.typ, l) {
				return nil, &soqlError{code: "INVALID_QUERY_FILTER_OPERATOR", msg: fmt.Sprintf("\n%s\nvalue of filter criterion for field '%s' must be of type %s and should not be enclosed in quotes", q, c.field, ref.f.typ)}
			}
		}
		where[i] = ref
	}
	order := make([]fieldRef, len(sq.orderBy))
	for i, o := range sq.orderBy {
		ref, err := st.resolve(typ, o.field, q)
		if err != nil {
			return nil, err
		}
		order[i] = ref
	}

	var rows []Record
	for _, rec := range st.records[typ] {
		ok := true
		for i, c := range sq.where {
			if !matches(where[i].f.typ, st.value(rec, where[i]), c) {
				ok = false
				break
			}
		}
		if ok {
			rows = append(rows, rec)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return str(rows[i]["Id"]) < str(rows[j]["Id"]) })
	sort.SliceStable(rows, func(i, j int) bool {
		for k, o := range sq.orderBy {
			a, b := st.value(rows[i], order[k]), st.value(rows[j], order[k])
			switch {
			case a == nil && b == nil:
				continue
			case a == nil:
				return o.nullsFirst
			case b == nil:
				return !o.nullsFirst
			}
			c := orderValues(order[k].f.typ, a, b)
			if c == 0 {
				continue
			}
			return (c < 0) != o.desc
		}
		return false
	})
	if sq.limit >= 0 && len(rows) > sq.limit {
		rows = rows[:sq.limit]
	}
	out := make([]json.RawMessage, len(rows))
	for i, rec := range rows {
		out[i] = st.render(typ, rec, sel, apiVersion)
	}
	return out, nil
}

// render writes one record as Salesforce does: attributes first, then the selected fields in order,
// with each parent relationship as a nested object (or null).
func (st *store) render(typ string, rec Record, sel []fieldRef, apiVersion string) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	writeAttributes(&b, typ, str(rec["Id"]), apiVersion)
	done := map[string]bool{}
	for i, ref := range sel {
		if ref.rel == "" {
			if done[ref.name] {
				continue
			}
			done[ref.name] = true
			writeField(&b, ref.name, rec[ref.name])
			continue
		}
		if done["rel:"+ref.rel] {
			continue
		}
		done["rel:"+ref.rel] = true
		b.WriteString(`,"` + ref.rel + `":`)
		parent, ok := st.get(ref.target, str(rec[ref.relFK]))
		if !ok {
			b.WriteString("null")
			continue
		}
		b.WriteByte('{')
		writeAttributes(&b, ref.target, str(parent["Id"]), apiVersion)
		seen := map[string]bool{}
		for _, r2 := range sel[i:] {
			if r2.rel == ref.rel && !seen[r2.name] {
				seen[r2.name] = true
				writeField(&b, r2.name, parent[r2.name])
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes()
}

func writeAttributes(b *bytes.Buffer, typ, id, apiVersion string) {
	attr, _ := json.Marshal(map[string]string{"type": typ, "url": "/services/data/v" + apiVersion + "/sobjects/" + typ + "/" + id})
	b.WriteString(`"attributes":`)
	b.Write(attr)
}

func writeField(b *bytes.Buffer, name string, v any) {
	b.WriteString(`,"` + name + `":`)
	switch x := v.(type) {
	case json.RawMessage:
		b.Write(x)
	case decimal.Decimal:
		b.WriteString(x.String())
	default:
		enc, err := json.Marshal(x)
		if err != nil {
			enc = []byte("null")
		}
		b.Write(enc)
	}
}
