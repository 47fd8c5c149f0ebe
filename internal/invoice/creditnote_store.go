package invoice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/money"
)

// IssueCreditNote credits a finalized invoice in full or per line, numbering the credit note in
// its entity's credit-note series. The part of the credit within the amount due reduces it (an
// invoice credited down to nothing due becomes paid); the rest is CreditNote.Excess, owed back to
// the customer. Idempotent by r.Key: a retry returns the issued note, the same key with different
// content is a *ConflictError.
func IssueCreditNote(ctx context.Context, q db.Querier, r CreditNoteRequest) (CreditNote, error) {
	if err := r.Validate(); err != nil {
		return CreditNote{}, err
	}
	hash := r.hash()
	var id string
	err := db.InTx(ctx, q, func(tx pgx.Tx) error {
		inv, err := lockForUpdate(ctx, tx, r.InvoiceID)
		if err != nil {
			return err
		}
		var stored []byte
		err = tx.QueryRow(ctx, `SELECT id, input_hash FROM credit_notes WHERE idempotency_key = $1`, r.Key).Scan(&id, &stored)
		if err == nil {
			if !bytes.Equal(stored, hash) {
				return &ConflictError{Key: r.Key}
			}
			return nil // already done
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("invoice: look up credit note %q: %w", r.Key, err)
		}
		credited, err := creditedByLine(ctx, tx, inv.ID)
		if err != nil {
			return err
		}
		lines, total, err := PlanCreditNote(inv, credited, r)
		if err != nil {
			return err
		}
		applied := decimal.Min(total, inv.AmountDue)
		next, err := Next(inv.Status, ActionCredit, applied.Equal(inv.AmountDue))
		if err != nil {
			return err
		}
		number, err := takeNumber(ctx, tx, inv.BillingEntity, seriesCreditNote)
		if err != nil {
			return err
		}
		id = newID("cn")
		if _, err := tx.Exec(ctx, `
			INSERT INTO credit_notes (id, idempotency_key, input_hash, invoice_id, billing_entity, number, currency,
				reason, full_credit, issue_date, total, applied_to_due, excess)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			id, r.Key, hash, inv.ID, inv.BillingEntity, number, string(inv.Currency), r.Reason, r.Full,
			r.IssueDate.Time(), total, applied, total.Sub(applied)); err != nil {
			if db.IsUniqueViolation(err, "credit_notes_idempotency_key_key") {
				return &ConflictError{Key: r.Key} // the same key used concurrently for another invoice
			}
			return fmt.Errorf("invoice: insert credit note %q: %w", r.Key, err)
		}
		rows := make([][]any, len(lines))
		for i, l := range lines {
			rows[i] = []any{id, l.No, l.InvoiceLineNo, l.Description, l.Amount}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"credit_note_lines"},
			[]string{"credit_note_id", "line_no", "invoice_line_no", "description", "amount"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("invoice: insert lines of credit note %q: %w", r.Key, err)
		}
		var paidAt *time.Time
		if next == StatusPaid && inv.Status != StatusPaid {
			at := r.IssueDate.Time()
			paidAt = &at
		}
		if _, err := tx.Exec(ctx, `
			UPDATE invoices SET amount_credited = amount_credited + $2, status = $3, paid_at = COALESCE(paid_at, $4)
			WHERE id = $1`, inv.ID, total, next, paidAt); err != nil {
			return fmt.Errorf("invoice: apply credit note %q to %s: %w", r.Key, inv.ID, err)
		}
		return nil
	})
	if err != nil {
		return CreditNote{}, err
	}
	return GetCreditNote(ctx, q, id)
}

func creditedByLine(ctx context.Context, q db.Querier, invoiceID string) (map[int]decimal.Decimal, error) {
	rows, err := q.Query(ctx, `
		SELECT l.invoice_line_no, sum(l.amount)
		FROM credit_note_lines l JOIN credit_notes c ON c.id = l.credit_note_id
		WHERE c.invoice_id = $1 GROUP BY l.invoice_line_no`, invoiceID)
	if err != nil {
		return nil, fmt.Errorf("invoice: read credits of %s: %w", invoiceID, err)
	}
	out := map[int]decimal.Decimal{}
	var no int
	var amt decimal.Decimal
	_, err = pgx.ForEachRow(rows, []any{&no, &amt}, func() error {
		out[no] = amt
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("invoice: read credits of %s: %w", invoiceID, err)
	}
	return out, nil
}

const creditNoteColumns = `id, idempotency_key, invoice_id, billing_entity, number, currency, reason, full_credit,
	issue_date, total, applied_to_due, excess, created_at`

func scanCreditNote(row pgx.Row) (CreditNote, error) {
	var cn CreditNote
	var cur string
	var issue time.Time
	err := row.Scan(&cn.ID, &cn.Key, &cn.InvoiceID, &cn.BillingEntity, &cn.Number, &cur, &cn.Reason, &cn.Full,
		&issue, &cn.Total, &cn.AppliedToDue, &cn.Excess, &cn.CreatedAt)
	cn.Currency = money.Currency(cur)
	cn.IssueDate = DateOf(issue)
	return cn, err
}

// GetCreditNote returns the credit note with its lines, or ErrNotFound.
func GetCreditNote(ctx context.Context, q db.Querier, id string) (CreditNote, error) {
	cn, err := scanCreditNote(q.QueryRow(ctx, `SELECT `+creditNoteColumns+` FROM credit_notes WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return CreditNote{}, fmt.Errorf("%w: credit note %s", ErrNotFound, id)
	}
	if err != nil {
		return CreditNote{}, fmt.Errorf("invoice: read credit note %s: %w", id, err)
	}
	if err := loadCreditNoteLines(ctx, q, &cn); err != nil {
		return CreditNote{}, err
	}
	return cn, nil
}

// CreditNotesOf lists the credit notes issued against an invoice, oldest first.
func CreditNotesOf(ctx context.Context, q db.Querier, invoiceID string) ([]CreditNote, error) {
	rows, err := q.Query(ctx, `SELECT `+creditNoteColumns+` FROM credit_notes WHERE invoice_id = $1 ORDER BY created_at, number`, invoiceID)
	if err != nil {
		return nil, fmt.Errorf("invoice: list credit notes of %s: %w", invoiceID, err)
	}
	notes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CreditNote, error) { return scanCreditNote(r) })
	if err != nil {
		return nil, fmt.Errorf("invoice: list credit notes of %s: %w", invoiceID, err)
	}
	for i := range notes {
		if err := loadCreditNoteLines(ctx, q, &notes[i]); err != nil {
			return nil, err
		}
	}
	return notes, nil
}

func loadCreditNoteLines(ctx context.Context, q db.Querier, cn *CreditNote) error {
	rows, err := q.Query(ctx, `
		SELECT line_no, invoice_line_no, description, amount FROM credit_note_lines
		WHERE credit_note_id = $1 ORDER BY line_no`, cn.ID)
	if err != nil {
		return fmt.Errorf("invoice: read lines of credit note %s: %w", cn.ID, err)
	}
	cn.Lines, err = pgx.CollectRows(rows, pgx.RowToStructByPos[CreditNoteLine])
	if err != nil {
		return fmt.Errorf("invoice: read lines of credit note %s: %w", cn.ID, err)
	}
	return nil
}
