package invoice

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/money"
)

func newID(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

// CreateDraft stores a new draft invoice, idempotent by d.Key: a retry with the same content
// returns the stored draft (whatever its status now), the same key with different content is a
// *ConflictError, and invalid content is a *ValidationError naming every bad field.
func CreateDraft(ctx context.Context, q db.Querier, d Draft) (Invoice, error) {
	d = d.Normalize()
	if err := d.Validate(); err != nil {
		return Invoice{}, err
	}
	hash, err := d.hash()
	if err != nil {
		return Invoice{}, err
	}
	tot := ComputeTotals(d.Lines)
	var id string
	err = db.InTx(ctx, q, func(tx pgx.Tx) error {
		fresh := newID("inv")
		err := tx.QueryRow(ctx, `
			INSERT INTO invoices (id, idempotency_key, input_hash, kind, contract_id, contract_version,
				customer_id, billing_entity, currency, period_start, period_end, payment_terms_days, memo,
				subtotal, discount, total)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
			ON CONFLICT (idempotency_key) DO NOTHING
			RETURNING id`,
			fresh, d.Key, hash, d.Kind, d.ContractID, d.ContractVersion, d.CustomerID, d.BillingEntity,
			string(d.Currency), datePtr(d.PeriodStart), datePtr(d.PeriodEnd), d.PaymentTermsDays, d.Memo,
			tot.Subtotal, tot.Discount, tot.Total).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			var stored []byte
			if err := tx.QueryRow(ctx, `SELECT id, input_hash FROM invoices WHERE idempotency_key = $1`, d.Key).Scan(&id, &stored); err != nil {
				return fmt.Errorf("invoice: look up draft %q: %w", d.Key, err)
			}
			if !bytes.Equal(stored, hash) {
				return &ConflictError{Key: d.Key}
			}
			return nil // already done
		}
		if err != nil {
			return fmt.Errorf("invoice: insert draft %q: %w", d.Key, err)
		}
		// One statement for all lines: a COPY would cost a round trip more for an invoice's few rows.
		n := len(d.Lines)
		nos, kinds, comps, products, descs := make([]int32, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		starts, ends, qtys, prices, amounts, expls := make([]*time.Time, n), make([]*time.Time, n), make([]string, n), make([]*string, n), make([]string, n), make([]*string, n)
		for i, l := range d.Lines {
			nos[i], kinds[i], comps[i], products[i], descs[i] = int32(l.No), l.Kind, l.ComponentID, l.Product, l.Description
			starts[i], ends[i], qtys[i], amounts[i] = datePtr(l.PeriodStart), datePtr(l.PeriodEnd), l.Quantity.String(), l.Amount.String()
			if l.UnitPrice != nil {
				p := l.UnitPrice.String()
				prices[i] = &p
			}
			if len(l.Explanation) > 0 {
				e := string(l.Explanation)
				expls[i] = &e
			}
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO invoice_lines (invoice_id, line_no, kind, component_id, product, description, period_start, period_end,
				quantity, unit_price, amount, explanation)
			SELECT $1, l.no, l.kind, l.comp, l.product, l.descr, l.ps, l.pe, l.qty::numeric, l.price::numeric, l.amount::numeric, l.expl::jsonb
			FROM unnest($2::int4[], $3::text[], $4::text[], $5::text[], $6::text[], $7::date[], $8::date[], $9::text[], $10::text[], $11::text[], $12::text[])
				AS l (no, kind, comp, product, descr, ps, pe, qty, price, amount, expl)`,
			id, nos, kinds, comps, products, descs, starts, ends, qtys, prices, amounts, expls); err != nil {
			return fmt.Errorf("invoice: insert lines of draft %q: %w", d.Key, err)
		}
		return nil
	})
	if err != nil {
		return Invoice{}, err
	}
	return Get(ctx, q, id)
}

const invoiceColumns = `id, idempotency_key, kind, contract_id, contract_version, customer_id, billing_entity,
	currency, period_start, period_end, status, COALESCE(number, ''), issue_date, due_date, payment_terms_days,
	memo, subtotal, discount, total, amount_paid, amount_credited, amount_due, COALESCE(payment_reference, ''),
	void_reason, created_at, finalized_at, paid_at, voided_at, uncollectible_at`

func scanInvoice(row pgx.Row) (Invoice, error) {
	var inv Invoice
	var cur string
	var ps, pe, issue, due *time.Time
	err := row.Scan(&inv.ID, &inv.Key, &inv.Kind, &inv.ContractID, &inv.ContractVersion, &inv.CustomerID,
		&inv.BillingEntity, &cur, &ps, &pe, &inv.Status, &inv.Number, &issue, &due, &inv.PaymentTermsDays,
		&inv.Memo, &inv.Subtotal, &inv.Discount, &inv.Total, &inv.AmountPaid, &inv.AmountCredited, &inv.AmountDue,
		&inv.PaymentReference, &inv.VoidReason, &inv.CreatedAt, &inv.FinalizedAt, &inv.PaidAt, &inv.VoidedAt,
		&inv.UncollectibleAt)
	if err != nil {
		return Invoice{}, err
	}
	inv.Currency = money.Currency(cur)
	inv.PeriodStart, inv.PeriodEnd, inv.IssueDate, inv.DueDate = dateOrZero(ps), dateOrZero(pe), dateOrZero(issue), dateOrZero(due)
	return inv, nil
}

// Get returns the invoice with its lines, or ErrNotFound.
func Get(ctx context.Context, q db.Querier, id string) (Invoice, error) {
	return getWhere(ctx, q, "id = $1", id, "")
}

// GetHead returns the invoice without its lines (totals, status and parties), or ErrNotFound.
func GetHead(ctx context.Context, q db.Querier, id string) (Invoice, error) {
	return getHead(ctx, q, "id = $1", id, "")
}

// GetByKey returns the invoice created with the business key, or ErrNotFound.
func GetByKey(ctx context.Context, q db.Querier, key string) (Invoice, error) {
	return getWhere(ctx, q, "idempotency_key = $1", key, "")
}

// lockForUpdate reads the invoice and locks its row for the rest of tx.
func lockForUpdate(ctx context.Context, tx pgx.Tx, id string) (Invoice, error) {
	return getWhere(ctx, tx, "id = $1", id, " FOR UPDATE")
}

// lockHeadForUpdate is lockForUpdate without the lines, for a change that does not look at them.
func lockHeadForUpdate(ctx context.Context, tx pgx.Tx, id string) (Invoice, error) {
	return getHead(ctx, tx, "id = $1", id, " FOR UPDATE")
}

func getHead(ctx context.Context, q db.Querier, where, arg, suffix string) (Invoice, error) {
	inv, err := scanInvoice(q.QueryRow(ctx, `SELECT `+invoiceColumns+` FROM invoices WHERE `+where+suffix, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return Invoice{}, fmt.Errorf("%w: %s", ErrNotFound, arg)
	}
	if err != nil {
		return Invoice{}, fmt.Errorf("invoice: read %s: %w", arg, err)
	}
	return inv, nil
}

func getWhere(ctx context.Context, q db.Querier, where, arg, suffix string) (Invoice, error) {
	inv, err := getHead(ctx, q, where, arg, suffix)
	if err != nil {
		return Invoice{}, err
	}
	rows, err := q.Query(ctx, `
		SELECT line_no, kind, component_id, product, description, period_start, period_end, quantity, unit_price,
			amount, explanation
		FROM invoice_lines WHERE invoice_id = $1 ORDER BY line_no`, inv.ID)
	if err != nil {
		return Invoice{}, fmt.Errorf("invoice: read lines of %s: %w", inv.ID, err)
	}
	inv.Lines, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Line, error) {
		var l Line
		var expl []byte
		var ps, pe *time.Time
		err := r.Scan(&l.No, &l.Kind, &l.ComponentID, &l.Product, &l.Description, &ps, &pe, &l.Quantity, &l.UnitPrice,
			&l.Amount, &expl)
		l.PeriodStart, l.PeriodEnd = dateOrZero(ps), dateOrZero(pe)
		if len(expl) > 0 {
			l.Explanation = json.RawMessage(expl)
		}
		return l, err
	})
	if err != nil {
		return Invoice{}, fmt.Errorf("invoice: read lines of %s: %w", inv.ID, err)
	}
	return inv, nil
}

// Finalize numbers the draft with the next gap-free number of its billing entity, sets the issue
// date (the UTC date of at) and the due date (issue date plus payment terms), and freezes it. A
// zero-amount invoice goes straight to paid. Finalizing an invoice that already carries its number
// returns it unchanged, so a retried activity is harmless.
func Finalize(ctx context.Context, q db.Querier, id string, at time.Time) (Invoice, error) {
	var inv Invoice
	err := db.InTx(ctx, q, func(tx pgx.Tx) error {
		var err error
		inv, err = FinalizeWith(ctx, tx, id, at, nil)
		return err
	})
	return inv, err
}

// FinalizeWith finalizes like Finalize inside the caller's transaction. It first calls prepare
// (when not nil) with the locked invoice as it is issued: dated but, unless it was finalized
// before, not yet numbered. Work that does not need the number (a ledger entry, say) belongs
// there, because the billing entity's number series stays locked from numbering until the
// caller commits, and every finalization of that entity waits for it.
func FinalizeWith(ctx context.Context, tx pgx.Tx, id string, at time.Time, prepare func(inv Invoice) error) (Invoice, error) {
	inv, err := lockForUpdate(ctx, tx, id)
	if err != nil {
		return Invoice{}, err
	}
	if inv.Number != "" { // already done
		if prepare != nil {
			if err := prepare(inv); err != nil {
				return Invoice{}, err
			}
		}
		return inv, nil
	}
	next, err := Next(inv.Status, ActionFinalize, inv.Total.IsZero())
	if err != nil {
		return Invoice{}, err
	}
	at = at.Truncate(time.Microsecond) // what timestamptz keeps
	issue := DateOf(at)
	inv.IssueDate, inv.DueDate = issue, issue.AddDays(inv.PaymentTermsDays)
	if prepare != nil {
		if err := prepare(inv); err != nil {
			return Invoice{}, err
		}
	}
	number, err := takeNumber(ctx, tx, inv.BillingEntity, seriesInvoice)
	if err != nil {
		return Invoice{}, err
	}
	ref, err := PaymentReference(number)
	if err != nil {
		return Invoice{}, err
	}
	var paidAt *time.Time
	if next == StatusPaid {
		paidAt = &at
	}
	_, err = tx.Exec(ctx, `
		UPDATE invoices SET status = $2, number = $3, issue_date = $4, due_date = $5, payment_reference = $6,
			finalized_at = $7, paid_at = $8
		WHERE id = $1`,
		id, next, number, inv.IssueDate.Time(), inv.DueDate.Time(), ref, at, paidAt)
	if err != nil {
		return Invoice{}, fmt.Errorf("invoice: finalize %s: %w", id, err)
	}
	inv.Status, inv.Number, inv.PaymentReference, inv.FinalizedAt, inv.PaidAt = next, number, ref, &at, paidAt
	return inv, nil
}

// Void cancels a draft, finalized or uncollectible invoice on which nothing was paid or credited;
// voiding an already void invoice returns it unchanged.
func Void(ctx context.Context, q db.Querier, id, reason string, at time.Time) (Invoice, error) {
	if strings.TrimSpace(reason) == "" {
		return Invoice{}, &RuleError{Field: "reason", Reason: "is required to void an invoice"}
	}
	err := db.InTx(ctx, q, func(tx pgx.Tx) error {
		inv, err := lockHeadForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		if inv.Status == StatusVoid {
			return nil // already done
		}
		if _, err := Next(inv.Status, ActionVoid, false); err != nil {
			return err
		}
		if inv.AmountPaid.IsPositive() || inv.AmountCredited.IsPositive() {
			return &RuleError{Reason: fmt.Sprintf("cannot void %s: %s paid and %s credited are recorded; issue a credit note instead",
				id, inv.AmountPaid, inv.AmountCredited)}
		}
		if _, err := tx.Exec(ctx, `UPDATE invoices SET status = 'void', void_reason = $2, voided_at = $3 WHERE id = $1`,
			id, reason, at); err != nil {
			return fmt.Errorf("invoice: void %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return Invoice{}, err
	}
	return Get(ctx, q, id)
}

// MarkUncollectible writes off an open invoice as bad debt; a later payment still settles it.
// Marking an already uncollectible invoice returns it unchanged.
func MarkUncollectible(ctx context.Context, q db.Querier, id string, at time.Time) (Invoice, error) {
	err := db.InTx(ctx, q, func(tx pgx.Tx) error {
		inv, err := lockHeadForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		if inv.Status == StatusUncollectible {
			return nil // already done
		}
		if _, err := Next(inv.Status, ActionMarkUncollectible, false); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE invoices SET status = 'uncollectible', uncollectible_at = $2 WHERE id = $1`, id, at); err != nil {
			return fmt.Errorf("invoice: mark %s uncollectible: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return Invoice{}, err
	}
	return Get(ctx, q, id)
}

// datePtr is the date for a nullable date column: nil for the zero date.
func datePtr(d Date) *time.Time {
	if d.IsZero() {
		return nil
	}
	t := d.Time()
	return &t
}

func dateOrZero(t *time.Time) Date {
	if t == nil {
		return Date{}
	}
	return DateOf(*t)
}

// RecordPayment applies a payment to an open invoice (finalized, partially paid or uncollectible),
// moving it to partially paid or paid. It is idempotent by p.Key: a retry returns the invoice as it
// is now, the same key with different content is a *ConflictError. A payment larger than the amount
// due is refused (the overpayment is the payment engine's unapplied cash, not this invoice's).
func RecordPayment(ctx context.Context, q db.Querier, p Payment) (Invoice, error) {
	if err := ApplyPayment(ctx, q, p); err != nil {
		return Invoice{}, err
	}
	return Get(ctx, q, p.InvoiceID)
}

// ApplyPayment is RecordPayment without reading the invoice back, for a caller that only needs
// the payment applied (inside its own transaction, say).
func ApplyPayment(ctx context.Context, q db.Querier, p Payment) error {
	if err := p.Validate(); err != nil {
		return err
	}
	hash := p.hash()
	return db.InTx(ctx, q, func(tx pgx.Tx) error {
		inv, err := lockHeadForUpdate(ctx, tx, p.InvoiceID)
		if err != nil {
			return err
		}
		var stored []byte
		err = tx.QueryRow(ctx, `SELECT input_hash FROM invoice_payments WHERE key = $1`, p.Key).Scan(&stored)
		if err == nil {
			if !bytes.Equal(stored, hash) {
				return &ConflictError{Key: p.Key}
			}
			return nil // already done
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("invoice: look up payment %q: %w", p.Key, err)
		}
		if _, err := Next(inv.Status, ActionPay, false); err != nil {
			return err
		}
		if !money.IsRounded(p.Amount, inv.Currency) {
			return &RuleError{Field: "amount", Reason: fmt.Sprintf("%s is not rounded to the minor unit of %s", p.Amount, inv.Currency)}
		}
		if p.Amount.GreaterThan(inv.AmountDue) {
			return &RuleError{Field: "amount", Reason: fmt.Sprintf("%s exceeds the amount due %s %s of invoice %s", p.Amount, inv.AmountDue, inv.Currency, inv.Number)}
		}
		next, err := Next(inv.Status, ActionPay, p.Amount.Equal(inv.AmountDue))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO invoice_payments (key, input_hash, invoice_id, amount, received_at, method, provider_ref)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			p.Key, hash, p.InvoiceID, p.Amount, p.ReceivedAt, p.Method, p.ProviderRef); err != nil {
			if db.IsUniqueViolation(err, "invoice_payments_pkey") {
				return &ConflictError{Key: p.Key} // the same key recorded concurrently against another invoice
			}
			return fmt.Errorf("invoice: insert payment %q: %w", p.Key, err)
		}
		var paidAt *time.Time
		if next == StatusPaid {
			paidAt = &p.ReceivedAt
		}
		if _, err := tx.Exec(ctx, `
			UPDATE invoices SET amount_paid = amount_paid + $2, status = $3, paid_at = COALESCE($4, paid_at)
			WHERE id = $1`, p.InvoiceID, p.Amount, next, paidAt); err != nil {
			return fmt.Errorf("invoice: apply payment %q to %s: %w", p.Key, p.InvoiceID, err)
		}
		return nil
	})
}
