// Package bank reads bank statement lines from CSV for matching incoming transfers to invoices.
//
// CSV format (RFC 4180, UTF-8, comma separated, first row is a header; column names are case
// insensitive and may come in any order; unknown columns are ignored):
//
//	account         required  the receiving account (IBAN or internal name)
//	transaction_id  required  the bank's unique id of the line within the account
//	booked_on       required  booking date, YYYY-MM-DD
//	amount          required  decimal with a dot, at most the currency's minor units; negative for debits
//	currency        required  ISO 4217 code
//	reference       optional  remittance information (free text holding the RF creditor reference)
//	counterparty    optional  payer name
package bank

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// Line is one bank statement line.
type Line struct {
	Row           int // 1-based CSV row, header is row 1
	Account       string
	TransactionID string
	BookedOn      time.Time // date at 00:00 UTC
	Amount        decimal.Decimal
	Currency      money.Currency
	Reference     string
	Counterparty  string
}

// Columns are the CSV column names, required ones first.
var Columns = []string{"account", "transaction_id", "booked_on", "amount", "currency", "reference", "counterparty"}

const requiredColumns = 5

// MaxLines bounds one statement file.
const MaxLines = 100_000

// ParseCSV reads a statement; it reports every bad cell at once as "row N: column: reason".
func ParseCSV(r io.Reader) ([]Line, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("statement: empty file, a header row is required")
	}
	if err != nil {
		return nil, fmt.Errorf("statement: header: %w", err)
	}
	idx := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := idx[name]; dup && name != "" {
			return nil, fmt.Errorf("statement: header: column %q appears twice", name)
		}
		idx[name] = i
	}
	var errs []error
	for _, c := range Columns[:requiredColumns] {
		if _, ok := idx[c]; !ok {
			errs = append(errs, fmt.Errorf("header: column %q is required", c))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("statement: %w", errors.Join(errs...))
	}
	var lines []Line
	seen := map[[2]string]int{}
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("row %d: %w", row, err))
			break // the CSV structure is broken; later rows cannot be trusted
		}
		if len(lines) >= MaxLines {
			errs = append(errs, fmt.Errorf("row %d: more than %d lines in one statement", row, MaxLines))
			break
		}
		cell := func(name string) string {
			i, ok := idx[name]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		l := Line{Row: row, Account: cell("account"), TransactionID: cell("transaction_id"), Reference: cell("reference"), Counterparty: cell("counterparty")}
		bad := func(col, format string, args ...any) {
			errs = append(errs, fmt.Errorf("row %d: %s: %s", row, col, fmt.Sprintf(format, args...)))
		}
		if l.Account == "" {
			bad("account", "is required")
		}
		if l.TransactionID == "" {
			bad("transaction_id", "is required")
		} else if first, dup := seen[[2]string{l.Account, l.TransactionID}]; dup {
			bad("transaction_id", "%q repeats row %d", l.TransactionID, first)
		} else {
			seen[[2]string{l.Account, l.TransactionID}] = row
		}
		if d, err := time.Parse("2006-01-02", cell("booked_on")); err != nil {
			bad("booked_on", "%q is not a date YYYY-MM-DD", cell("booked_on"))
		} else {
			l.BookedOn = d
		}
		cur, curErr := money.ParseCurrency(cell("currency"))
		if curErr != nil || cur.String() != cell("currency") {
			bad("currency", "%q is not a supported upper-case ISO 4217 code", cell("currency"))
		} else {
			l.Currency = cur
		}
		raw := cell("amount")
		amt, err := decimal.NewFromString(raw)
		switch {
		case err != nil || strings.ContainsAny(raw, "eE,_ ") || raw == "":
			bad("amount", "%q is not a decimal number with a dot", raw)
		case amt.IsZero():
			bad("amount", "must not be zero")
		case curErr == nil && !money.IsRounded(amt, cur):
			bad("amount", "%s has more decimals than %s allows", raw, cur)
		default:
			l.Amount = amt
		}
		lines = append(lines, l)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("statement: %w", errors.Join(errs...))
	}
	return lines, nil
}
