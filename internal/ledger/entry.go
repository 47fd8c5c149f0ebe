// Package ledger is revhub's double-entry ledger: a configurable chart of accounts, append-only
// journal entries keyed by the business event that caused them, balanced per currency, posted
// into accounting periods that can be closed, and corrected only by reversing entries.
package ledger

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// Side is the side of a posting.
type Side string

// The two sides of double entry.
const (
	Debit  Side = "debit"
	Credit Side = "credit"
)

// Dimensions tag a posting for reporting and ERP mapping.
type Dimensions struct {
	Customer string `json:"customer,omitempty"`
	Product  string `json:"product,omitempty"`
	Contract string `json:"contract,omitempty"`
}

// Posting is one line of an entry: a positive amount on one side of one account.
type Posting struct {
	Account  string          `json:"account"`
	Side     Side            `json:"side"`
	Amount   decimal.Decimal `json:"amount"` // positive, rounded to Currency's minor unit
	Currency money.Currency  `json:"currency"`
	Dimensions
	Memo string `json:"memo,omitempty"`
}

// Signed returns the amount with debits positive and credits negative.
func (p Posting) Signed() decimal.Decimal {
	if p.Side == Credit {
		return p.Amount.Neg()
	}
	return p.Amount
}

// Entry is a journal entry whose Key is derived from its business event (invoice:{id}:finalized).
type Entry struct {
	Key            string    `json:"key"`
	Entity         string    `json:"entity"` // legal entity / subsidiary the entry books into
	Date           time.Time `json:"date"`   // a calendar date; only its year, month and day count
	Memo           string    `json:"memo,omitempty"`
	Reverses       string    `json:"reverses,omitempty"`        // key of the entry this one reverses
	OriginalPeriod string    `json:"original_period,omitempty"` // set when a late effect moved to a later open period
	Postings       []Posting `json:"postings"`
	CreatedAt      time.Time `json:"created_at,omitzero"` // set by the store
}

// Period returns the entry's accounting period ("2026-11").
func (e Entry) Period() string { return PeriodOf(e.Date) }

// PeriodOf returns the accounting period (calendar month, "YYYY-MM") of a date.
func PeriodOf(d time.Time) string { return d.Format("2006-01") }

// ParsePeriod parses "YYYY-MM" into the period's first day.
func ParsePeriod(p string) (time.Time, error) {
	t, err := time.Parse("2006-01", p)
	if err != nil {
		return time.Time{}, fmt.Errorf("period %q: want YYYY-MM", p)
	}
	return t, nil
}

// NextPeriod returns the period after p.
func NextPeriod(p string) (string, error) {
	t, err := ParsePeriod(p)
	if err != nil {
		return "", err
	}
	return PeriodOf(t.AddDate(0, 1, 0)), nil
}

// Date returns the calendar date y-m-d at midnight UTC.
func Date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func civil(t time.Time) time.Time { return Date(t.Year(), t.Month(), t.Day()) }

// Validate checks the entry on its own and against the chart (when not nil), reporting every problem.
func (e Entry) Validate(ch *Chart) error {
	var ps problems
	if e.Key == "" || strings.TrimSpace(e.Key) != e.Key || len(e.Key) > 300 {
		ps.Add("key", "must be 1-300 characters without surrounding spaces")
	}
	if e.Entity == "" {
		ps.Add("entity", "is required")
	}
	if e.Date.IsZero() {
		ps.Add("date", "is required")
	}
	if e.OriginalPeriod != "" {
		if _, err := ParsePeriod(e.OriginalPeriod); err != nil {
			ps.Add("original_period", "%v", err)
		} else if !e.Date.IsZero() && e.OriginalPeriod >= e.Period() {
			ps.Add("original_period", "%s is not before the entry's period %s", e.OriginalPeriod, e.Period())
		}
	}
	if len(e.Postings) < 2 {
		ps.Add("postings", "an entry needs at least two postings, has %d", len(e.Postings))
	}
	totals := map[money.Currency]decimal.Decimal{}
	for i, p := range e.Postings {
		f := fmt.Sprintf("postings[%d]", i)
		if p.Account == "" {
			ps.Add(f+".account", "is required")
		} else if ch != nil {
			if _, ok := ch.Account(p.Account); !ok {
				ps.Add(f+".account", "%q is not in the chart of accounts", p.Account)
			}
		}
		if p.Side != Debit && p.Side != Credit {
			ps.Add(f+".side", "%q is not debit or credit", p.Side)
		}
		if !p.Currency.Valid() {
			ps.Add(f+".currency", "%q is not a supported ISO 4217 currency", p.Currency)
		}
		if !p.Amount.IsPositive() {
			ps.Add(f+".amount", "%s must be positive", p.Amount)
		} else if p.Currency.Valid() && !money.IsRounded(p.Amount, p.Currency) {
			ps.Add(f+".amount", "%s has more decimals than %s allows", p.Amount, p.Currency)
		}
		if p.Currency.Valid() && (p.Side == Debit || p.Side == Credit) {
			totals[p.Currency] = totals[p.Currency].Add(p.Signed())
		}
	}
	curs := make([]string, 0, len(totals))
	for c := range totals {
		curs = append(curs, string(c))
	}
	sort.Strings(curs)
	for _, c := range curs {
		if t := totals[money.Currency(c)]; !t.IsZero() {
			ps.Add("postings", "debits and credits in %s differ by %s", c, t)
		}
	}
	return ps.Err("", "entry "+e.Key)
}

// ContentHash is the SHA-256 of the entry's canonical content (everything but CreatedAt); a
// repeat of the same business event must hash the same.
func (e Entry) ContentHash() []byte {
	type line struct {
		Account, Side, Amount, Currency, Customer, Product, Contract, Memo string
	}
	c := struct {
		Key, Entity, Date, Memo, Reverses, OriginalPeriod string
		Lines                                             []line
	}{e.Key, e.Entity, civil(e.Date).Format(time.DateOnly), e.Memo, e.Reverses, e.OriginalPeriod, nil}
	for _, p := range e.Postings {
		c.Lines = append(c.Lines, line{p.Account, string(p.Side), p.Amount.String(), string(p.Currency),
			p.Customer, p.Product, p.Contract, p.Memo})
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("ledger: hash entry: %v", err)) // strings only: cannot fail
	}
	h := sha256.Sum256(b)
	return h[:]
}

// Reversal builds the entry that reverses e on date: key reversal:{key}, every posting's side swapped.
func Reversal(e Entry, date time.Time, reason string) (Entry, error) {
	if strings.TrimSpace(reason) == "" {
		return Entry{}, &InvalidError{What: "reversal of " + e.Key, Problems: []Problem{{Field: "reason", Reason: "is required"}}}
	}
	r := Entry{
		Key:      "reversal:" + e.Key,
		Entity:   e.Entity,
		Date:     civil(date),
		Memo:     "reversal of " + e.Key + ": " + reason,
		Reverses: e.Key,
	}
	for _, p := range e.Postings {
		p.Side = map[Side]Side{Debit: Credit, Credit: Debit}[p.Side]
		r.Postings = append(r.Postings, p)
	}
	return r, nil
}
