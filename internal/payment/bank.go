package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/money"
)

// StatementLine is a bank statement line in revhub's terms (see mappings.BankStatementLine).
type StatementLine struct {
	Account        string
	TransactionID  string
	BookedOn       time.Time
	Amount         decimal.Decimal // positive for money received
	Currency       money.Currency
	Reference      string // valid RF creditor reference found in the remittance text, or ""
	RemittanceText string
	Counterparty   string
}

// Key is the idempotency key of the transfer recorded from the line.
func (l StatementLine) Key() string { return "bank:" + l.Account + ":" + l.TransactionID }

// Match outcomes of a statement line.
const (
	MatchPaid      = "paid"      // the line pays exactly what was still due
	MatchPartial   = "partial"   // the line pays part of what is due
	MatchOverpaid  = "overpaid"  // the line pays more than was due; the excess is an exception
	MatchUnmatched = "unmatched" // no invoice found; the whole line is an exception
)

// Exception kinds raised by bank matching.
const (
	ExceptionDebit            = "bank_debit"
	ExceptionNoReference      = "bank_no_reference"
	ExceptionUnknownReference = "bank_unknown_reference"
	ExceptionCurrency         = "bank_currency_mismatch"
	ExceptionOverpayment      = "bank_overpayment"
)

// MatchResult is what matching did with one line.
type MatchResult struct {
	Line      StatementLine
	Outcome   string
	InvoiceID string
	Applied   decimal.Decimal // recorded as a transfer payment of the invoice
	Excess    decimal.Decimal // over-payment left for revenue ops
	Remaining decimal.Decimal // still due on the invoice after this line
	Exception string          // exception kind raised, if any
	Already   bool            // the line had been imported before; nothing changed
}

// MatchLine records a statement line and matches it to an invoice by its RF reference and amount:
// a payment of exactly the amount due pays the invoice, less is a partial payment, more pays the
// invoice and leaves the excess as an over-payment exception; a line without a known reference,
// in another currency, or a debit, is an exception. Importing the same line again changes nothing.
func (s *Service) MatchLine(ctx context.Context, l StatementLine) (MatchResult, error) {
	var res MatchResult
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		res, err = matchLine(ctx, tx, l)
		return err
	})
	if err != nil {
		return MatchResult{}, fmt.Errorf("match bank line %s/%s: %w", l.Account, l.TransactionID, err)
	}
	return res, nil
}

// MatchLines matches a whole statement, line by line, and returns every result.
func (s *Service) MatchLines(ctx context.Context, lines []StatementLine) ([]MatchResult, error) {
	out := make([]MatchResult, 0, len(lines))
	for _, l := range lines {
		r, err := s.MatchLine(ctx, l)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func matchLine(ctx context.Context, tx pgx.Tx, l StatementLine) (MatchResult, error) {
	res := MatchResult{Line: l, Applied: decimal.Zero, Excess: decimal.Zero, Remaining: decimal.Zero}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('bank_line:' || $1))`, l.Key()); err != nil {
		return res, fmt.Errorf("lock line: %w", err)
	}
	var invoice *string
	err := tx.QueryRow(ctx, `SELECT outcome, invoice_id, applied, excess FROM bank_statement_lines WHERE account = $1 AND transaction_id = $2`,
		l.Account, l.TransactionID).Scan(&res.Outcome, &invoice, &res.Applied, &res.Excess)
	if err == nil {
		res.Already = true
		if invoice != nil {
			res.InvoiceID = *invoice
		}
		return res, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return res, fmt.Errorf("load line: %w", err)
	}
	res.Outcome = MatchUnmatched
	exc := Exception{Provider: provider.Bank, Source: l.Key(), Amount: l.Amount, Currency: l.Currency}
	var rcv Receivable
	switch {
	case !l.Amount.IsPositive():
		exc.Kind, exc.Reason = ExceptionDebit, "debit line: not an incoming payment"
	case l.Reference == "":
		exc.Kind, exc.Reason = ExceptionNoReference, fmt.Sprintf("no valid RF reference in remittance text %q", l.RemittanceText)
	default:
		rcv, err = getReceivableForUpdate(ctx, tx, l.Reference)
		switch {
		case errors.Is(err, ErrUnknownInvoice):
			exc.Kind, exc.Reason = ExceptionUnknownReference, fmt.Sprintf("reference %s belongs to no invoice", l.Reference)
		case err != nil:
			return res, err
		case rcv.Currency != l.Currency:
			exc.Kind, exc.InvoiceID = ExceptionCurrency, rcv.InvoiceID
			exc.Reason = fmt.Sprintf("paid in %s, invoice %s is in %s", l.Currency, rcv.InvoiceID, rcv.Currency)
		}
	}
	if exc.Kind == "" {
		res.InvoiceID = rcv.InvoiceID
		paid, err := Paid(ctx, tx, rcv.InvoiceID)
		if err != nil {
			return res, err
		}
		due := decimal.Max(rcv.Amount.Sub(paid), decimal.Zero)
		res.Applied = decimal.Min(l.Amount, due)
		res.Excess = l.Amount.Sub(res.Applied)
		res.Remaining = due.Sub(res.Applied)
		switch {
		case res.Excess.IsPositive():
			res.Outcome = MatchOverpaid
			exc.Kind, exc.InvoiceID, exc.Amount = ExceptionOverpayment, rcv.InvoiceID, res.Excess
			exc.Reason = fmt.Sprintf("received %s %s, %s was due on invoice %s: %s over-paid", l.Amount, l.Currency, due, rcv.InvoiceID, res.Excess)
		case res.Remaining.IsPositive():
			res.Outcome = MatchPartial
		default:
			res.Outcome = MatchPaid
		}
		if res.Applied.IsPositive() {
			_, created, err := InsertSettled(ctx, tx, Payment{IdempotencyKey: l.Key(), Kind: KindTransfer, Provider: provider.Bank,
				InvoiceID: rcv.InvoiceID, Amount: res.Applied, Currency: l.Currency, ProviderID: l.Account + ":" + l.TransactionID}, l.BookedOn)
			if err != nil {
				return res, err
			}
			if !created {
				return res, fmt.Errorf("transfer %s already recorded without its statement line", l.Key())
			}
		}
	}
	if exc.Kind != "" {
		res.Exception = exc.Kind
		if _, err := RecordException(ctx, tx, exc); err != nil {
			return res, err
		}
	}
	var inv any
	if res.InvoiceID != "" {
		inv = res.InvoiceID
	}
	_, err = tx.Exec(ctx, `INSERT INTO bank_statement_lines (account, transaction_id, booked_on, amount, currency, reference, counterparty, invoice_id, outcome, applied, excess)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		l.Account, l.TransactionID, l.BookedOn, l.Amount, l.Currency, l.RemittanceText, l.Counterparty, inv, res.Outcome, res.Applied, res.Excess)
	if err != nil {
		return res, fmt.Errorf("record line: %w", err)
	}
	return res, nil
}

func getReceivableForUpdate(ctx context.Context, tx pgx.Tx, ref string) (Receivable, error) {
	var r Receivable
	var cur string
	err := tx.QueryRow(ctx, `SELECT invoice_id, customer_id, reference, currency, amount FROM payment_receivables WHERE reference = $1 FOR UPDATE`, ref).
		Scan(&r.InvoiceID, &r.CustomerID, &r.Reference, &cur, &r.Amount)
	r.Currency = money.Currency(cur)
	if errors.Is(err, pgx.ErrNoRows) {
		return Receivable{}, fmt.Errorf("reference %s: %w", ref, ErrUnknownInvoice)
	}
	if err != nil {
		return Receivable{}, fmt.Errorf("load receivable by reference %s: %w", ref, err)
	}
	return r, nil
}
