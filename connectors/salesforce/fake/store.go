package fake

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// Salesforce JSON layouts.
const (
	dateLayout     = "2006-01-02"
	datetimeLayout = "2006-01-02T15:04:05.000-0700"
)

// Record is one sObject's fields as JSON values: string, bool, json.Number, nil,
// or json.RawMessage for a value injected as malformed.
type Record map[string]any

// store holds the org's records; it is guarded by the Server's mutex.
type store struct {
	schema      map[string]*object
	records     map[string]map[string]Record
	seq         int
	lastStamp   time.Time
	now         func() time.Time
	wonStages   []string
	lostStages  []string
	orgCurrency string
	multi       bool
}

func newStore(multi bool, orgCurrency string, now func() time.Time) *store {
	st := &store{
		schema:      newSchema(multi),
		records:     map[string]map[string]Record{},
		now:         now,
		wonStages:   []string{"Closed Won"},
		lostStages:  []string{"Closed Lost"},
		orgCurrency: orgCurrency,
		multi:       multi,
	}
	for name := range st.schema {
		st.records[name] = map[string]Record{}
	}
	return st
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns a fresh 18-character id with the object's key prefix and a valid case-safe suffix.
func (st *store) newID(prefix string) string {
	st.seq++
	n := st.seq
	body := make([]byte, 12)
	for i := len(body) - 1; i >= 0; i-- {
		body[i] = base62[n%62]
		n /= 62
	}
	body[0] = 'F' // keeps generated ids apart from fixture ids
	return caseSafeID(prefix + string(body))
}

// caseSafeID appends the 3-character checksum that turns a 15-character id into its 18-character form.
func caseSafeID(id15 string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	var suffix [3]byte
	for chunk := 0; chunk < 3; chunk++ {
		bits := 0
		for i := 0; i < 5; i++ {
			c := id15[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				bits |= 1 << i
			}
		}
		suffix[chunk] = alphabet[bits]
	}
	return id15 + string(suffix[:])
}

// validID reports whether id is a well-formed 15 or 18 character id (with a correct suffix when 18).
func validID(id string) bool {
	if len(id) != 15 && len(id) != 18 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !strings.ContainsRune(base62, rune(id[i])) {
			return false
		}
	}
	return len(id) == 15 || caseSafeID(id[:15]) == id
}

// stamp returns a new SystemModstamp, strictly later than the previous one.
func (st *store) stamp() time.Time {
	t := st.now().UTC().Truncate(time.Millisecond)
	if !t.After(st.lastStamp) {
		t = st.lastStamp.Add(time.Millisecond)
	}
	st.lastStamp = t
	return t
}

func formatDatetime(t time.Time) string { return t.UTC().Format(datetimeLayout) }

// objectFor returns the sObject type of id by its key prefix.
func (st *store) objectFor(id string) (string, bool) {
	if len(id) < 3 {
		return "", false
	}
	for name, o := range st.schema {
		if o.prefix == id[:3] {
			return name, true
		}
	}
	return "", false
}

// get returns the record of type typ with id, matching 15-character ids too.
func (st *store) get(typ, id string) (Record, bool) {
	recs := st.records[typ]
	if r, ok := recs[id]; ok {
		return r, true
	}
	if len(id) == 15 {
		r, ok := recs[caseSafeID(id)]
		return r, ok
	}
	return nil, false
}

// coerce checks a value against a field type, returning the stored form or a reason.
func coerce(f field, v any) (any, string) {
	if v == nil {
		return nil, ""
	}
	switch f.typ {
	case tBool:
		if b, ok := v.(bool); ok {
			return b, ""
		}
		return nil, "want true or false"
	case tNumber:
		switch x := v.(type) {
		case json.Number:
			if _, err := decimal.NewFromString(x.String()); err != nil {
				return nil, "want a number"
			}
			return x, ""
		case decimal.Decimal:
			return json.Number(x.String()), ""
		}
		return nil, "want a JSON number"
	case tDate:
		s, ok := v.(string)
		if !ok {
			return nil, "want a date string YYYY-MM-DD"
		}
		if _, err := time.Parse(dateLayout, s); err != nil {
			return nil, "want a date YYYY-MM-DD"
		}
		return s, ""
	case tDatetime:
		s, ok := v.(string)
		if !ok {
			return nil, "want a datetime string"
		}
		if _, err := time.Parse(datetimeLayout, s); err != nil {
			if t, err2 := time.Parse(time.RFC3339Nano, s); err2 == nil {
				return formatDatetime(t), ""
			}
			return nil, "want a datetime such as 2024-05-01T12:00:00.000+0000"
		}
		return s, ""
	case tID, tRef:
		s, ok := v.(string)
		if !ok || (s != "" && !validID(s)) {
			return nil, "want an 18-character id"
		}
		if s == "" {
			return nil, ""
		}
		return s, ""
	default:
		s, ok := v.(string)
		if !ok {
			return nil, "want a string"
		}
		if len(f.values) > 0 && s != "" && !slices.Contains(f.values, s) {
			return nil, "bad value for restricted picklist field: " + s
		}
		return s, ""
	}
}

// put creates or updates a record with already validated fields, recomputes derived fields and bumps stamps.
func (st *store) put(typ, id string, fields Record) (string, error) {
	o := st.schema[typ]
	if o == nil {
		return "", fmt.Errorf("sObject type '%s' is not supported", typ)
	}
	now := formatDatetime(st.stamp())
	rec, exists := st.get(typ, id)
	if !exists {
		if id == "" {
			id = st.newID(o.prefix)
		}
		rec = Record{"Id": id, "CreatedDate": now, "IsDeleted": false}
		st.records[typ][id] = rec
	}
	for k, v := range fields {
		if k == "Id" {
			continue
		}
		rec[k] = v
	}
	rec["LastModifiedDate"] = now
	rec["SystemModstamp"] = now
	st.derive(typ, rec)
	if typ == "OpportunityLineItem" {
		if oid, _ := rec["OpportunityId"].(string); oid != "" {
			if opp, ok := st.get("Opportunity", oid); ok {
				opp["LastModifiedDate"] = now
				opp["SystemModstamp"] = now
				st.derive("Opportunity", opp)
				for _, li := range st.lineItems(oid) {
					st.derive("OpportunityLineItem", li)
				}
			}
		}
	}
	return rec["Id"].(string), nil
}

// lineItems returns the line items of an Opportunity.
func (st *store) lineItems(oppID string) []Record {
	var out []Record
	for _, li := range st.records["OpportunityLineItem"] {
		if li["OpportunityId"] == oppID {
			out = append(out, li)
		}
	}
	return out
}

func num(v any) (decimal.Decimal, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(n.String())
	return d, err == nil
}

// derive recomputes the fields Salesforce computes: IsWon/IsClosed, Amount, TotalPrice, currency.
func (st *store) derive(typ string, rec Record) {
	switch typ {
	case "Opportunity":
		stage, _ := rec["StageName"].(string)
		won := slices.Contains(st.wonStages, stage)
		rec["IsWon"] = won
		rec["IsClosed"] = won || slices.Contains(st.lostStages, stage)
		id, _ := rec["Id"].(string)
		items := st.lineItems(id)
		rec["HasOpportunityLineItem"] = len(items) > 0
		if len(items) > 0 {
			sum := decimal.Zero
			for _, li := range items {
				if tp, ok := num(li["TotalPrice"]); ok {
					sum = sum.Add(tp)
				}
			}
			rec["Amount"] = json.Number(sum.String())
		}
		if st.multi {
			if _, ok := rec[currencyField]; !ok {
				rec[currencyField] = st.orgCurrency
			}
		}
	case "OpportunityLineItem":
		cur := st.orgCurrency
		if opp, ok := st.get("Opportunity", str(rec["OpportunityId"])); ok {
			if c, ok := opp[currencyField].(string); ok && st.multi {
				cur = c
			}
			if p, ok := st.get("Product2", str(rec["Product2Id"])); ok {
				rec["Name"] = str(opp["Name"]) + " " + str(p["Name"])
			}
		}
		if st.multi {
			rec[currencyField] = cur
		}
		qty, okQ := num(rec["Quantity"])
		price, okP := num(rec["UnitPrice"])
		if _, ok := rec["ListPrice"]; !ok && okP {
			rec["ListPrice"] = json.Number(price.String())
		}
		if !okQ || !okP {
			return
		}
		sub := qty.Mul(price)
		total := sub
		if d, ok := num(rec["Discount"]); ok {
			total = sub.Mul(decimal.NewFromInt(100).Sub(d)).Div(decimal.NewFromInt(100))
		}
		if c, err := money.ParseCurrency(cur); err == nil {
			if r, err := money.Round(total, c); err == nil {
				total = r
			}
		}
		rec["Subtotal"] = json.Number(sub.String())
		rec["TotalPrice"] = json.Number(total.String())
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
