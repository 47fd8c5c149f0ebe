package netsuite

import (
	"bytes"
	"fmt"

	"github.com/shopspring/decimal"
)

// Ref is a record reference: {"id": "42"} on write, {id, refName, links} on read.
type Ref struct {
	ID      string `json:"id"`
	RefName string `json:"refName,omitempty"`
}

// RefTo returns a reference to id, or nil when id is empty (the field is then omitted).
func RefTo(id string) *Ref {
	if id == "" {
		return nil
	}
	return &Ref{ID: id}
}

// Amount is a decimal that travels as a JSON number, as NetSuite expects for debit and credit.
type Amount struct{ decimal.Decimal }

// NewAmount wraps d; nil for zero, so a line carries only its debit or its credit.
func NewAmount(d decimal.Decimal) *Amount {
	if d.IsZero() {
		return nil
	}
	return &Amount{d}
}

// MarshalJSON writes the exact decimal as a JSON number.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalJSON accepts a JSON number or a numeric string.
func (a *Amount) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	d, err := decimal.NewFromString(string(b))
	if err != nil {
		return fmt.Errorf("netsuite amount %s: %w", b, err)
	}
	a.Decimal = d
	return nil
}

// JournalLine is one line of a journal entry's "line" sublist.
type JournalLine struct {
	Account    Ref     `json:"account"`
	Debit      *Amount `json:"debit,omitempty"`
	Credit     *Amount `json:"credit,omitempty"`
	Memo       string  `json:"memo,omitempty"`
	Entity     *Ref    `json:"entity,omitempty"` // customer
	Department *Ref    `json:"department,omitempty"`
	Class      *Ref    `json:"class,omitempty"`
	Location   *Ref    `json:"location,omitempty"`
}

// JournalLines is the "line" sublist: {"items": [...]}.
type JournalLines struct {
	Items []JournalLine `json:"items"`
}

// JournalEntry is NetSuite's journalEntry record as revhub writes and reads it.
type JournalEntry struct {
	ID            string       `json:"id,omitempty"` // internal id, on read
	ExternalID    string       `json:"externalId,omitempty"`
	Subsidiary    *Ref         `json:"subsidiary,omitempty"`
	Currency      *Ref         `json:"currency,omitempty"`
	TranDate      string       `json:"tranDate"` // YYYY-MM-DD
	PostingPeriod *Ref         `json:"postingPeriod,omitempty"`
	Memo          string       `json:"memo,omitempty"`
	Line          JournalLines `json:"line"`
}

// Totals returns the sums of the debits and credits of the lines.
func (je JournalEntry) Totals() (debit, credit decimal.Decimal) {
	for _, l := range je.Line.Items {
		if l.Debit != nil {
			debit = debit.Add(l.Debit.Decimal)
		}
		if l.Credit != nil {
			credit = credit.Add(l.Credit.Decimal)
		}
	}
	return debit, credit
}
