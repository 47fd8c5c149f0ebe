package fake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/netsuite"
)

// The fake answers a SuiteQL subset: SELECT of columns, SUM(col), COUNT(*) with AS aliases;
// FROM one table with an alias; [INNER] JOIN ... ON a.x = b.y; WHERE conditions joined by AND
// (=, <>, !=, <, <=, >, >=, LIKE, IN (...)) against string or number literals; GROUP BY;
// ORDER BY [ASC|DESC]. Tables: transaction, transactionline, accountingperiod. Anything else
// is refused as NetSuite refuses an invalid query.

// schemas are the columns of the tables the fake exposes.
var schemas = map[string][]string{
	"transaction":      {"id", "tranid", "externalid", "recordtype", "type", "trandate", "postingperiod", "currency", "memo", "createddate"},
	"transactionline":  {"transaction", "id", "linesequencenumber", "subsidiary", "expenseaccount", "debitforeignamount", "creditforeignamount", "entity", "department", "class", "location", "memo"},
	"accountingperiod": {"id", "periodname", "startdate", "enddate", "closed", "isquarter", "isyear", "isadjust"},
}

type tableRow map[string]string // column -> value; absent is NULL

// tables materializes the tables from the store (caller holds s.mu).
func (s *Server) tables() map[string][]tableRow {
	nsDate := func(d string) string { // NetSuite's default M/D/YYYY
		var y, m, day int
		if _, err := fmt.Sscanf(d, "%d-%d-%d", &y, &m, &day); err != nil {
			return d
		}
		return fmt.Sprintf("%d/%d/%d", m, day, y)
	}
	tf := func(b bool) string {
		if b {
			return "T"
		}
		return "F"
	}
	out := map[string][]tableRow{}
	for _, p := range s.store.periods {
		out["accountingperiod"] = append(out["accountingperiod"], tableRow{"id": strconv.Itoa(p.id), "periodname": p.name,
			"startdate": nsDate(p.start.Format("2006-01-02")), "enddate": nsDate(p.end.Format("2006-01-02")),
			"closed": tf(p.closed), "isquarter": tf(p.isQuarter), "isyear": tf(p.isYear), "isadjust": "F"})
	}
	for _, id := range s.store.sortedIDs() {
		je := s.store.entries[id]
		t := tableRow{"id": je.ID, "tranid": "JE" + je.ID, "recordtype": "journalentry", "type": "Journal",
			"trandate": nsDate(je.TranDate), "postingperiod": je.PostingPeriod.ID, "currency": je.Currency.ID,
			"createddate": s.store.createdAt[id].Format("1/2/2006")}
		if je.ExternalID != "" {
			t["externalid"] = je.ExternalID
		}
		if je.Memo != "" {
			t["memo"] = je.Memo
		}
		out["transaction"] = append(out["transaction"], t)
		for i, l := range je.Line.Items {
			r := tableRow{"transaction": je.ID, "id": strconv.Itoa(i), "linesequencenumber": strconv.Itoa(i),
				"subsidiary": je.Subsidiary.ID, "expenseaccount": l.Account.ID}
			if l.Debit != nil {
				r["debitforeignamount"] = l.Debit.String()
			}
			if l.Credit != nil {
				r["creditforeignamount"] = l.Credit.String()
			}
			for k, v := range map[string]string{"entity": refID(l.Entity), "department": refID(l.Department), "class": refID(l.Class),
				"location": refID(l.Location), "memo": l.Memo} {
				if v != "" {
					r[k] = v
				}
			}
			out["transactionline"] = append(out["transactionline"], r)
		}
	}
	return out
}

func (s *Server) suiteQL(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Prefer"), "transient") {
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETER", "", "The request header 'Prefer: transient' is required for SuiteQL queries.")
		return
	}
	limit, offset := 1000, 0
	var err error
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			writeError(w, http.StatusBadRequest, "INVALID_PARAMETER", "limit", "The limit must be between 1 and 1000.")
			return
		}
	}
	if v := r.URL.Query().Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			writeError(w, http.StatusBadRequest, "INVALID_PARAMETER", "offset", "The offset must be a non-negative integer.")
			return
		}
	}
	var body struct {
		Q string `json:"q"`
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(b, &body); err != nil || strings.TrimSpace(body.Q) == "" {
		writeError(w, http.StatusBadRequest, "INVALID_CONTENT", "q", "The request body must be {\"q\": \"<SuiteQL query>\"}.")
		return
	}
	q, err := parseQuery(body.Q)
	if err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETER", "q", "Invalid search query. Detailed unprocessed description follows. "+err.Error())
		return
	}
	s.mu.Lock()
	rows, err := q.run(s.tables())
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETER", "q", "Invalid search query. Detailed unprocessed description follows. Search error occurred: "+err.Error())
		return
	}
	total := len(rows)
	end := min(offset+limit, total)
	page := []map[string]any{}
	if offset < total {
		for _, row := range rows[offset:end] {
			item := map[string]any{"links": []any{}}
			for k, v := range row {
				item[k] = v
			}
			page = append(page, item)
		}
	}
	self := baseURL(r) + r.URL.Path
	link := func(rel string, off int) map[string]string {
		return map[string]string{"rel": rel, "href": fmt.Sprintf("%s?limit=%d&offset=%d", self, limit, off)}
	}
	links := []map[string]string{link("self", offset), link("first", 0)}
	if offset > 0 {
		links = append(links, link("previous", max(offset-limit, 0)))
	}
	hasMore := end < total
	if hasMore {
		links = append(links, link("next", end))
	}
	links = append(links, link("last", max((total-1)/limit*limit, 0)))
	writeJSON(w, http.StatusOK, map[string]any{"links": links, "count": len(page), "hasMore": hasMore, "items": page,
		"offset": offset, "totalResults": total})
}

// --- parsing ---

type colRef struct{ table, col string }

func (c colRef) String() string {
	if c.table == "" {
		return c.col
	}
	return c.table + "." + c.col
}

type selectItem struct {
	fn    string // "", "SUM", "COUNT"
	star  bool   // COUNT(*)
	ref   colRef
	alias string
}

type condition struct {
	ref  colRef
	op   string
	vals []string
}

type joinClause struct {
	table, alias string
	left, right  colRef
}

type orderItem struct {
	ref  colRef
	desc bool
}

type query struct {
	items        []selectItem
	table, alias string
	joins        []joinClause
	where        []condition
	groupBy      []colRef
	orderBy      []orderItem
}

var tokenRE = regexp.MustCompile(`\s*('(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_]*|-?[0-9]+(?:\.[0-9]+)?|<>|!=|<=|>=|[=<>(),.*])`)

type parser struct {
	toks []string
	pos  int
}

func tokenize(s string) ([]string, error) {
	var toks []string
	s = strings.TrimSpace(s)
	for len(s) > 0 {
		m := tokenRE.FindStringSubmatchIndex(s)
		if m == nil || m[0] != 0 {
			return nil, fmt.Errorf("unexpected text near %q", truncate(s, 20))
		}
		toks = append(toks, s[m[2]:m[3]])
		s = strings.TrimSpace(s[m[1]:])
	}
	return toks, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) next() string { t := p.peek(); p.pos++; return t }

func (p *parser) keyword(k string) bool {
	if strings.EqualFold(p.peek(), k) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expect(t string) error {
	if got := p.next(); !strings.EqualFold(got, t) {
		return fmt.Errorf("expected %s, found %q", t, got)
	}
	return nil
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var reserved = map[string]bool{"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "OR": true, "JOIN": true, "INNER": true,
	"ON": true, "GROUP": true, "BY": true, "ORDER": true, "AS": true, "ASC": true, "DESC": true, "LIKE": true, "IN": true, "NOT": true, "LEFT": true}

func (p *parser) ident() (string, error) {
	t := p.next()
	if !identRE.MatchString(t) || reserved[strings.ToUpper(t)] {
		return "", fmt.Errorf("expected a name, found %q", t)
	}
	return strings.ToLower(t), nil
}

func (p *parser) colRef() (colRef, error) {
	a, err := p.ident()
	if err != nil {
		return colRef{}, err
	}
	if p.peek() == "." {
		p.pos++
		b, err := p.ident()
		return colRef{a, b}, err
	}
	return colRef{"", a}, nil
}

func (p *parser) literal() (string, error) {
	t := p.next()
	switch {
	case strings.HasPrefix(t, "'"):
		return strings.ReplaceAll(t[1:len(t)-1], "''", "'"), nil
	case t != "" && (t[0] == '-' || t[0] >= '0' && t[0] <= '9'):
		return t, nil
	}
	return "", fmt.Errorf("expected a literal, found %q", t)
}

func parseQuery(src string) (*query, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	q := &query{}
	if err := p.expect("SELECT"); err != nil {
		return nil, err
	}
	for {
		var it selectItem
		if up := strings.ToUpper(p.peek()); (up == "SUM" || up == "COUNT") && p.pos+1 < len(p.toks) && p.toks[p.pos+1] == "(" {
			it.fn = up
			p.pos += 2
			if up == "COUNT" && p.peek() == "*" {
				p.pos++
				it.star = true
			} else if it.ref, err = p.colRef(); err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
		} else if it.ref, err = p.colRef(); err != nil {
			return nil, err
		}
		if p.keyword("AS") {
			if it.alias, err = p.ident(); err != nil {
				return nil, err
			}
		}
		q.items = append(q.items, it)
		if p.peek() != "," {
			break
		}
		p.pos++
	}
	if err := p.expect("FROM"); err != nil {
		return nil, err
	}
	if q.table, err = p.ident(); err != nil {
		return nil, err
	}
	q.alias = q.table
	if a := p.peek(); identRE.MatchString(a) && !reserved[strings.ToUpper(a)] {
		q.alias, _ = p.ident()
	}
	for {
		inner := p.keyword("INNER")
		if !p.keyword("JOIN") {
			if inner {
				return nil, fmt.Errorf("expected JOIN after INNER")
			}
			break
		}
		var j joinClause
		if j.table, err = p.ident(); err != nil {
			return nil, err
		}
		j.alias = j.table
		if a := p.peek(); identRE.MatchString(a) && !reserved[strings.ToUpper(a)] {
			j.alias, _ = p.ident()
		}
		if err := p.expect("ON"); err != nil {
			return nil, err
		}
		if j.left, err = p.colRef(); err != nil {
			return nil, err
		}
		if err := p.expect("="); err != nil {
			return nil, err
		}
		if j.right, err = p.colRef(); err != nil {
			return nil, err
		}
		q.joins = append(q.joins, j)
	}
	if p.keyword("WHERE") {
		for {
			var c condition
			if c.ref, err = p.colRef(); err != nil {
				return nil, err
			}
			c.op = strings.ToUpper(p.next())
			switch c.op {
			case "=", "<>", "!=", "<", "<=", ">", ">=", "LIKE":
				v, err := p.literal()
				if err != nil {
					return nil, err
				}
				c.vals = []string{v}
			case "IN":
				if err := p.expect("("); err != nil {
					return nil, err
				}
				for {
					v, err := p.literal()
					if err != nil {
						return nil, err
					}
					c.vals = append(c.vals, v)
					if p.peek() != "," {
						break
					}
					p.pos++
				}
				if err := p.expect(")"); err != nil {
					return nil, err
				}
			default:
				return nil, fmt.Errorf("unsupported operator %q", c.op)
			}
			q.where = append(q.where, c)
			if !p.keyword("AND") {
				break
			}
		}
	}
	if p.keyword("GROUP") {
		if err := p.expect("BY"); err != nil {
			return nil, err
		}
		for {
			r, err := p.colRef()
			if err != nil {
				return nil, err
			}
			q.groupBy = append(q.groupBy, r)
			if p.peek() != "," {
				break
			}
			p.pos++
		}
	}
	if p.keyword("ORDER") {
		if err := p.expect("BY"); err != nil {
			return nil, err
		}
		for {
			r, err := p.colRef()
			if err != nil {
				return nil, err
			}
			o := orderItem{ref: r}
			if p.keyword("DESC") {
				o.desc = true
			} else {
				p.keyword("ASC")
			}
			q.orderBy = append(q.orderBy, o)
			if p.peek() != "," {
				break
			}
			p.pos++
		}
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.peek())
	}
	return q, nil
}

// --- evaluation ---

type tuple map[string]tableRow // alias -> row

func (q *query) tablesByAlias() (map[string]string, error) {
	m := map[string]string{q.alias: q.table}
	for _, j := range q.joins {
		if _, dup := m[j.alias]; dup {
			return nil, fmt.Errorf("duplicate alias %s", j.alias)
		}
		m[j.alias] = j.table
	}
	for _, t := range m {
		if _, ok := schemas[t]; !ok {
			//lint:ignore ST1005 NetSuite's own SuiteQL wording, reproduced on the wire
			return nil, fmt.Errorf("Record '%s' was not found.", t)
		}
	}
	return m, nil
}

// resolve finds the value of ref in a tuple; ok is false for NULL.
func resolve(aliases map[string]string, ref colRef, t tuple) (string, bool, error) {
	if ref.table != "" {
		tbl, ok := aliases[ref.table]
		if !ok {
			//lint:ignore ST1005 NetSuite's own SuiteQL wording, reproduced on the wire
			return "", false, fmt.Errorf("Unknown identifier '%s'.", ref.table)
		}
		if !hasColumn(tbl, ref.col) {
			//lint:ignore ST1005 NetSuite's own SuiteQL wording, reproduced on the wire
			return "", false, fmt.Errorf("Field '%s' for record '%s' was not found.", ref.col, tbl)
		}
		v, ok := t[ref.table][ref.col]
		return v, ok, nil
	}
	found := ""
	for a, tbl := range aliases {
		if hasColumn(tbl, ref.col) {
			if found != "" {
				//lint:ignore ST1005 NetSuite's own SuiteQL wording, reproduced on the wire
				return "", false, fmt.Errorf("Field '%s' is ambiguous.", ref.col)
			}
			found = a
		}
	}
	if found == "" {
		//lint:ignore ST1005 NetSuite's own SuiteQL wording, reproduced on the wire
		return "", false, fmt.Errorf("Field '%s' was not found.", ref.col)
	}
	v, ok := t[found][ref.col]
	return v, ok, nil
}

func hasColumn(table, col string) bool {
	for _, c := range schemas[table] {
		if c == col {
			return true
		}
	}
	return false
}

// compare orders two values numerically when both are numbers, else as text.
func compare(a, b string) int {
	da, ea := decimal.NewFromString(a)
	db, eb := decimal.NewFromString(b)
	if ea == nil && eb == nil {
		return da.Cmp(db)
	}
	return strings.Compare(a, b)
}

func likeRE(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func (c condition) match(v string, null bool) bool {
	if null {
		return false // NULL compares to nothing, as in SQL
	}
	switch c.op {
	case "=":
		return compare(v, c.vals[0]) == 0
	case "<>", "!=":
		return compare(v, c.vals[0]) != 0
	case "<":
		return compare(v, c.vals[0]) < 0
	case "<=":
		return compare(v, c.vals[0]) <= 0
	case ">":
		return compare(v, c.vals[0]) > 0
	case ">=":
		return compare(v, c.vals[0]) >= 0
	case "LIKE":
		return likeRE(c.vals[0]).MatchString(v)
	case "IN":
		for _, x := range c.vals {
			if compare(v, x) == 0 {
				return true
			}
		}
	}
	return false
}

type resultRow struct {
	out map[string]string
	rep tuple
}

func (q *query) run(data map[string][]tableRow) ([]map[string]string, error) {
	aliases, err := q.tablesByAlias()
	if err != nil {
		return nil, err
	}
	tuples := []tuple{}
	for _, r := range data[q.table] {
		tuples = append(tuples, tuple{q.alias: r})
	}
	for _, j := range q.joins {
		var joined []tuple
		for _, t := range tuples {
			for _, r := range data[j.table] {
				cand := tuple{j.alias: r}
				for k, v := range t {
					cand[k] = v
				}
				l, lok, err := resolve(aliases, j.left, cand)
				if err != nil {
					return nil, err
				}
				rv, rok, err := resolve(aliases, j.right, cand)
				if err != nil {
					return nil, err
				}
				if lok && rok && compare(l, rv) == 0 {
					joined = append(joined, cand)
				}
			}
		}
		tuples = joined
	}
	var kept []tuple
	for _, t := range tuples {
		ok := true
		for _, c := range q.where {
			v, present, err := resolve(aliases, c.ref, t)
			if err != nil {
				return nil, err
			}
			if !c.match(v, !present) {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, t)
		}
	}
	// Validate every referenced column even when no row matched.
	empty := tuple{}
	for _, it := range q.items {
		if !it.star {
			if _, _, err := resolve(aliases, it.ref, empty); err != nil {
				return nil, err
			}
		}
	}
	aggregate := len(q.groupBy) > 0
	for _, it := range q.items {
		aggregate = aggregate || it.fn != ""
	}
	var results []resultRow
	if !aggregate {
		for _, t := range kept {
			out := map[string]string{}
			for _, it := range q.items {
				if v, ok, _ := resolve(aliases, it.ref, t); ok {
					out[it.name()] = v
				}
			}
			results = append(results, resultRow{out, t})
		}
	} else {
		for _, it := range q.items {
			if it.fn == "" && !containsRef(q.groupBy, it.ref) {
				return nil, fmt.Errorf("not a GROUP BY expression: %s", it.ref)
			}
		}
		groups := map[string][]tuple{}
		var order []string
		for _, t := range kept {
			var key []string
			for _, g := range q.groupBy {
				v, ok, err := resolve(aliases, g, t)
				if err != nil {
					return nil, err
				}
				if !ok {
					v = "\x01null"
				}
				key = append(key, v)
			}
			k := strings.Join(key, "\x00")
			if _, seen := groups[k]; !seen {
				order = append(order, k)
			}
			groups[k] = append(groups[k], t)
		}
		if len(q.groupBy) == 0 && len(order) == 0 {
			order, groups[""] = []string{""}, nil // an aggregate over no rows still answers one row
		}
		for _, k := range order {
			ts := groups[k]
			out := map[string]string{}
			for _, it := range q.items {
				switch it.fn {
				case "COUNT":
					n := 0
					for _, t := range ts {
						if _, ok, _ := resolve(aliases, it.ref, t); it.star || ok {
							n++
						}
					}
					out[it.name()] = strconv.Itoa(n)
				case "SUM":
					sum, any := decimal.Zero, false
					for _, t := range ts {
						if v, ok, _ := resolve(aliases, it.ref, t); ok {
							d, err := decimal.NewFromString(v)
							if err != nil {
								return nil, fmt.Errorf("SUM of non-numeric %s", it.ref)
							}
							sum, any = sum.Add(d), true
						}
					}
					if any {
						out[it.name()] = sum.String()
					}
				default:
					if len(ts) > 0 {
						if v, ok, _ := resolve(aliases, it.ref, ts[0]); ok {
							out[it.name()] = v
						}
					}
				}
			}
			var rep tuple
			if len(ts) > 0 {
				rep = ts[0]
			}
			results = append(results, resultRow{out, rep})
		}
	}
	if len(q.orderBy) > 0 {
		var sortErr error
		value := func(r resultRow, o orderItem) (string, bool) {
			if o.ref.table == "" {
				for _, it := range q.items {
					if it.alias == o.ref.col {
						v, ok := r.out[o.ref.col]
						return v, ok
					}
				}
			}
			if aggregate && !containsRef(q.groupBy, o.ref) {
				sortErr = fmt.Errorf("ORDER BY %s is not a GROUP BY expression", o.ref)
			}
			v, ok, err := resolve(aliases, o.ref, r.rep)
			if err != nil {
				sortErr = err
			}
			return v, ok
		}
		sort.SliceStable(results, func(i, j int) bool {
			for _, o := range q.orderBy {
				a, aok := value(results[i], o)
				b, bok := value(results[j], o)
				c := 0
				switch {
				case aok && bok:
					c = compare(a, b)
				case aok != bok: // NULLs sort last ascending, as in Oracle
					c = map[bool]int{true: -1, false: 1}[aok]
				}
				if o.desc {
					c = -c
				}
				if c != 0 {
					return c < 0
				}
			}
			return false
		})
		if sortErr != nil {
			return nil, sortErr
		}
	}
	out := make([]map[string]string, len(results))
	for i, r := range results {
		out[i] = r.out
	}
	return out, nil
}

func (it selectItem) name() string {
	if it.alias != "" {
		return it.alias
	}
	if it.fn != "" {
		if it.star {
			return strings.ToLower(it.fn)
		}
		return strings.ToLower(it.fn) + "(" + it.ref.col + ")"
	}
	return it.ref.col
}

func containsRef(refs []colRef, r colRef) bool {
	for _, x := range refs {
		if x == r {
			return true
		}
	}
	return false
}

func refID(r *netsuite.Ref) string {
	if r == nil {
		return ""
	}
	return r.ID
}
