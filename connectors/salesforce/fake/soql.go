package fake

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/shopspring/decimal"
)

// The SOQL subset the fake understands:
//
//	SELECT field[, Rel.field ...] FROM Object
//	[WHERE cond [AND cond ...]]   cond: field (=|!=|<>|<|<=|>|>=) literal | field [NOT] IN (literal, ...)
//	[ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n]
//
// Literals: 'quoted strings', numbers, true, false, null, dates (2024-05-01) and datetimes (2024-05-01T00:00:00Z).

type litKind int

const (
	litString litKind = iota
	litNumber
	litBool
	litNull
	litDate
	litDatetime
)

type literal struct {
	kind litKind
	text string
	num  decimal.Decimal
	t    time.Time
}

type cond struct {
	field  string
	op     string // = != < <= > >= IN NOTIN
	values []literal
}

type orderTerm struct {
	field      string
	desc       bool
	nullsFirst bool
}

type soqlQuery struct {
	fields  []string
	object  string
	where   []cond
	orderBy []orderTerm
	limit   int // -1 when absent
}

// soqlError is a MALFORMED_QUERY (or similar) failure with the real error code.
type soqlError struct {
	code string
	msg  string
}

func (e *soqlError) Error() string { return e.code + ": " + e.msg }

type token struct {
	kind string // ident, string, number, punct, eof
	text string
	pos  int
}

var (
	dateRe     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	datetimeRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})$`)
)

func lex(q string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case unicode.IsSpace(rune(c)):
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(q) && q[j] != '\''; j++ {
				if q[j] == '\\' && j+1 < len(q) {
					j++
				}
				b.WriteByte(q[j])
			}
			if j >= len(q) {
				return nil, malformed(q, i, "unterminated string literal")
			}
			toks = append(toks, token{"string", b.String(), i})
			i = j + 1
		case c >= '0' && c <= '9' || (c == '-' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9'):
			j := i + 1
			for j < len(q) && strings.IndexByte("0123456789.:-+TZ", q[j]) >= 0 {
				j++
			}
			toks = append(toks, token{"number", q[i:j], i})
			i = j
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i
			for j < len(q) && (q[j] == '_' || q[j] == '.' || unicode.IsLetter(rune(q[j])) || unicode.IsDigit(rune(q[j]))) {
				j++
			}
			toks = append(toks, token{"ident", q[i:j], i})
			i = j
		case strings.HasPrefix(q[i:], "!=") || strings.HasPrefix(q[i:], "<>") || strings.HasPrefix(q[i:], "<=") || strings.HasPrefix(q[i:], ">="):
			toks = append(toks, token{"punct", q[i : i+2], i})
			i += 2
		case strings.IndexByte("(),=<>", c) >= 0:
			toks = append(toks, token{"punct", q[i : i+1], i})
			i++
		default:
			return nil, malformed(q, i, fmt.Sprintf("unexpected token: '%c'", c))
		}
	}
	return append(toks, token{"eof", "", len(q)}), nil
}

// malformed builds Salesforce's MALFORMED_QUERY message with the row and column of the problem.
func malformed(q string, pos int, what string) *soqlError {
	return &soqlError{code: "MALFORMED_QUERY", msg: fmt.Sprintf("\n%s\n%s^\nERROR at Row:1:Column:%d\n%s", q, strings.Repeat(" ", pos), pos+1, what)}
}

type parser struct {
	q    string
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) keyword(kw string) bool {
	t := p.peek()
	if t.kind == "ident" && strings.EqualFold(t.text, kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(kw string) error {
	if !p.keyword(kw) {
		t := p.peek()
		return malformed(p.q, t.pos, fmt.Sprintf("unexpected token: '%s' (expecting %s)", t.text, kw))
	}
	return nil
}

func (p *parser) ident() (string, error) {
	t := p.next()
	if t.kind != "ident" {
		return "", malformed(p.q, t.pos, fmt.Sprintf("unexpected token: '%s'", t.text))
	}
	return t.text, nil
}

func parseSOQL(q string) (*soqlQuery, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{q: q, toks: toks}
	sq := &soqlQuery{limit: -1}
	if err := p.expect("SELECT"); err != nil {
		return nil, err
	}
	for {
		if t := p.peek(); t.kind == "punct" && t.text == "(" {
			return nil, malformed(q, t.pos, "subqueries are not supported by this fake")
		}
		f, err := p.ident()
		if err != nil {
			return nil, err
		}
		sq.fields = append(sq.fields, f)
		if t := p.peek(); t.kind == "punct" && t.text == "," {
			p.i++
			continue
		}
		break
	}
	if err := p.expect("FROM"); err != nil {
		return nil, err
	}
	if sq.object, err = p.ident(); err != nil {
		return nil, err
	}
	if p.keyword("WHERE") {
		for {
			c, err := p.cond()
			if err != nil {
				return nil, err
			}
			sq.where = append(sq.where, c)
			if p.keyword("AND") {
				continue
			}
			if t := p.peek(); t.kind == "ident" && strings.EqualFold(t.text, "OR") {
				return nil, malformed(q, t.pos, "OR is not supported by this fake")
			}
			break
		}
	}
	if p.keyword("ORDER") {
		if err := p.expect("BY"); err != nil {
			return nil, err
		}
		for {
			f, err := p.ident()
			if err != nil {
				return nil, err
			}
			o := orderTerm{field: f, nullsFirst: true}
			if p.keyword("DESC") {
				o.desc, o.nullsFirst = true, false
			} else {
				p.keyword("ASC")
			}
			if p.keyword("NULLS") {
				switch {
				case p.keyword("FIRST"):
					o.nullsFirst = true
				case p.keyword("LAST"):
					o.nullsFirst = false
				default:
					t := p.peek()
					return nil, malformed(q, t.pos, fmt.Sprintf("unexpected token: '%s'", t.text))
				}
			}
			sq.orderBy = append(sq.orderBy, o)
			if t := p.peek(); t.kind == "punct" && t.text == "," {
				p.i++
				continue
			}
			break
		}
	}
	if p.keyword("LIMIT") {
		t := p.next()
		n, err := strconv.Atoi(t.text)
		if t.kind != "number" || err != nil || n < 0 {
			return nil, malformed(q, t.pos, fmt.Sprintf("unexpected token: '%s'", t.text))
		}
		sq.limit = n
	}
	if t := p.peek(); t.kind != "eof" {
		return nil, malformed(q, t.pos, fmt.Sprintf("unexpected token: '%s'", t.text))
	}
	return sq, nil
}

func (p *parser) cond() (cond, error) {
	f, err := p.ident()
	if err != nil {
		return cond{}, err
	}
	c := cond{field: f}
	t := p.next()
	switch {
	case t.kind == "punct" && isComparison(t.text):
		c.op = t.text
		if c.op == "<>" {
			c.op = "!="
		}
		l, err := p.literal()
		if err != nil {
			return cond{}, err
		}
		c.values = []literal{l}
		return c, nil
	case t.kind == "ident" && strings.EqualFold(t.text, "NOT"):
		if err := p.expect("IN"); err != nil {
			return cond{}, err
		}
		c.op = "NOTIN"
	case t.kind == "ident" && strings.EqualFold(t.text, "IN"):
		c.op = "IN"
	default:
		return cond{}, malformed(p.q, t.pos, fmt.Sprintf("unexpected token: '%s'", t.text))
	}
	if t := p.next(); t.kind != "punct" || t.text != "(" {
		return cond{}, malformed(p.q, t.pos, fmt.Sprintf("unexpected token: '%s' (expecting '(')", t.text))
	}
	for {
		l, err := p.literal()
		if err != nil {
			return cond{}, err
		}
		c.values = append(c.values, l)
		t := p.next()
		if t.kind == "punct" && t.text == "," {
			continue
		}
		if t.kind == "punct" && t.text == ")" {
			return c, nil
		}
		return cond{}, malformed(p.q, t.pos, fmt.Sprintf("unexpected token: '%s'", t.text))
	}
}

func (p *parser) literal() (literal, error) {
	t := p.next()
	switch t.kind {
	case "string":
		return literal{kind: litString, text: t.text}, nil
	case "ident":
		switch strings.ToLower(t.text) {
		case "true", "false":
			return literal{kind: litBool, text: strings.ToLower(t.text)}, nil
		case "null":
			return literal{kind: litNull, text: "null"}, nil
		}
	case "number":
		switch {
		case dateRe.MatchString(t.text):
			d, err := time.Parse(dateLayout, t.text)
			if err == nil {
				return literal{kind: litDate, text: t.text, t: d}, nil
			}
		case datetimeRe.MatchString(t.text):
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700"} {
				if d, err := time.Parse(layout, t.text); err == nil {
					return literal{kind: litDatetime, text: t.text, t: d.UTC()}, nil
				}
			}
		default:
			if n, err := decimal.NewFromString(t.text); err == nil {
				return literal{kind: litNumber, text: t.text, num: n}, nil
			}
		}
	}
	return literal{}, malformed(p.q, t.pos, fmt.Sprintf("unexpected token: '%s'", t.text))
}

func isComparison(op string) bool {
	switch op {
	case "=", "!=", "<>", "<", "<=", ">", ">=":
		return true
	}
	return false
}
