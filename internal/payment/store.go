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

const paymentColumns = `id, idempotency_key, kind, provider, invoice_id, attempt, amount, currency, status,
	coalesce(provider_id, ''), failure_code, failure_message, created_at, updated_at, captured_at`

func scanPayment(row pgx.Row) (Payment, error) {
	var p Payment
	var kind, prov, cur, status string
	err := row.Scan(&p.ID, &p.IdempotencyKey, &kind, &prov, &p.InvoiceID, &p.Attempt, &p.Amount, &cur, &status,
		&p.ProviderID, &p.FailureCode, &p.FailureMessage, &p.CreatedAt, &p.UpdatedAt, &p.CapturedAt)
	p.Kind, p.Provider, p.Currency, p.Status = Kind(kind), provider.Name(prov), money.Currency(cur), provider.Status(status)
	return p, err
}

// InsertPending records p as pending under its idempotency key; created is false when a record
// with that key already exists, which is then returned unchanged.
func InsertPending(ctx context.Context, q db.Querier, p Payment) (Payment, bool, error) {
	row := q.QueryRow(ctx, `INSERT INTO payments (idempotency_key, kind, provider, invoice_id, attempt, amount, currency, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending')
		ON CONFLICT ON CONSTRAINT payments_idempotency_key_uq DO NOTHING
		RETURNING `+paymentColumns,
		p.IdempotencyKey, p.Kind, p.Provider, p.InvoiceID, p.Attempt, p.Amount, p.Currency)
	got, err := scanPayment(row)
	if err == nil {
		return got, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Payment{}, false, fmt.Errorf("insert pending payment %s: %w", p.IdempotencyKey, err)
	}
	got, err = GetByKey(ctx, q, p.IdempotencyKey)
	return got, false, err
}

// InsertSettled records an already-settled payment (a matched bank transfer); created is false when
// the key exists.
func InsertSettled(ctx context.Context, q db.Querier, p Payment, capturedAt time.Time) (Payment, bool, error) {
	row := q.QueryRow(ctx, `INSERT INTO payments (idempotency_key, kind, provider, invoice_id, attempt, amount, currency, status, provider_id, captured_at)
		VALUES ($1, $2, $3, $4, 0, $5, $6, 'succeeded', NULLIF($7, ''), $8)
		ON CONFLICT ON CONSTRAINT payments_idempotency_key_uq DO NOTHING
		RETURNING `+paymentColumns,
		p.IdempotencyKey, p.Kind, p.Provider, p.InvoiceID, p.Amount, p.Currency, p.ProviderID, capturedAt)
	got, err := scanPayment(row)
	if err == nil {
		return got, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Payment{}, false, fmt.Errorf("insert payment %s: %w", p.IdempotencyKey, err)
	}
	got, err = GetByKey(ctx, q, p.IdempotencyKey)
	return got, false, err
}

// ErrNotFound means no payment matched.
var ErrNotFound = errors.New("payment not found")

// GetByKey loads the payment recorded under key.
func GetByKey(ctx context.Context, q db.Querier, key string) (Payment, error) {
	p, err := scanPayment(q.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE idempotency_key = $1`, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return Payment{}, fmt.Errorf("payment %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return Payment{}, fmt.Errorf("load payment %s: %w", key, err)
	}
	return p, nil
}

// GetByProviderID loads the charge or refund a provider knows as providerID.
func GetByProviderID(ctx context.Context, q db.Querier, prov provider.Name, kind Kind, providerID string) (Payment, error) {
	p, err := scanPayment(q.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE provider = $1 AND kind = $2 AND provider_id = $3`, prov, kind, providerID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Payment{}, fmt.Errorf("%s %s %s: %w", prov, kind, providerID, ErrNotFound)
	}
	if err != nil {
		return Payment{}, fmt.Errorf("load %s %s %s: %w", prov, kind, providerID, err)
	}
	return p, nil
}

// ListByInvoice lists the payments of an invoice, oldest first.
func ListByInvoice(ctx context.Context, q db.Querier, invoiceID string) ([]Payment, error) {
	return list(ctx, q, `SELECT `+paymentColumns+` FROM payments WHERE invoice_id = $1 ORDER BY id`, invoiceID)
}

// ListPending lists payments still pending that were created before olderThan, oldest first.
func ListPending(ctx context.Context, q db.Querier, olderThan time.Time, limit int) ([]Payment, error) {
	return list(ctx, q, `SELECT `+paymentColumns+` FROM payments WHERE status = 'pending' AND created_at < $1 ORDER BY id LIMIT $2`, olderThan, limit)
}

// ListCaptured lists a provider's succeeded charges and transfers captured in [from, to).
func ListCaptured(ctx context.Context, q db.Querier, prov provider.Name, from, to time.Time) ([]Payment, error) {
	return list(ctx, q, `SELECT `+paymentColumns+` FROM payments
		WHERE provider = $1 AND kind IN ('charge', 'transfer') AND status = 'succeeded' AND captured_at >= $2 AND captured_at < $3
		ORDER BY captured_at, id`, prov, from, to)
}

func list(ctx context.Context, q db.Querier, sql string, args ...any) ([]Payment, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list payments: %w", err)
	}
	defer rows.Close()
	var out []Payment
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return nil, fmt.Errorf("scan payment: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list payments: %w", err)
	}
	return out, nil
}

// Settle moves a pending payment to its provider outcome; a pending outcome only records the
// provider id. It returns the record as stored and whether it changed. A payment already
// succeeded or failed is never changed.
func Settle(ctx context.Context, q db.Querier, key string, c provider.Charge) (Payment, bool, error) {
	var captured *time.Time
	if c.Status == provider.StatusSucceeded {
		at := c.CapturedAt
		if at.IsZero() {
			at = time.Now().UTC()
		}
		captured = &at
	}
	row := q.QueryRow(ctx, `UPDATE payments SET
			status = $2, provider_id = coalesce(NULLIF($3, ''), provider_id),
			failure_code = $4, failure_message = $5, captured_at = $6, updated_at = now()
		WHERE idempotency_key = $1 AND status = 'pending'
			AND (status IS DISTINCT FROM $2 OR provider_id IS DISTINCT FROM coalesce(NULLIF($3, ''), provider_id))
		RETURNING `+paymentColumns, key, c.Status, c.ProviderID, c.FailureCode, c.FailureMessage, captured)
	p, err := scanPayment(row)
	if err == nil {
		return p, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		if db.IsUniqueViolation(err, "payments_provider_id_uq") {
			return Payment{}, false, fmt.Errorf("settle payment %s: provider id %s is already recorded for another payment: %w", key, c.ProviderID, err)
		}
		return Payment{}, false, fmt.Errorf("settle payment %s: %w", key, err)
	}
	p, err = GetByKey(ctx, q, key)
	return p, false, err
}

// UpsertReceivable registers what an invoice asks to be paid; registering the same invoice again
// with the same figures is a no-op, with different figures an error.
func UpsertReceivable(ctx context.Context, q db.Querier, r Receivable) error {
	_, err := q.Exec(ctx, `INSERT INTO payment_receivables (invoice_id, customer_id, reference, currency, amount)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (invoice_id) DO NOTHING`, r.InvoiceID, r.CustomerID, r.Reference, r.Currency, r.Amount)
	if db.IsUniqueViolation(err, "payment_receivables_reference_uq") {
		return fmt.Errorf("receivable %s: reference %s: already used by another invoice", r.InvoiceID, r.Reference)
	}
	if err != nil {
		return fmt.Errorf("register receivable %s: %w", r.InvoiceID, err)
	}
	got, err := GetReceivable(ctx, q, r.InvoiceID)
	if err != nil {
		return err
	}
	if got.CustomerID != r.CustomerID || got.Reference != r.Reference || got.Currency != r.Currency || !got.Amount.Equal(r.Amount) {
		return fmt.Errorf("receivable %s: already registered as %s %s (reference %s), refusing %s %s (reference %s)",
			r.InvoiceID, got.Amount, got.Currency, got.Reference, r.Amount, r.Currency, r.Reference)
	}
	return nil
}

// ErrUnknownInvoice means no receivable is registered for the invoice or reference.
var ErrUnknownInvoice = errors.New("unknown invoice")

// GetReceivable loads the receivable of an invoice.
func GetReceivable(ctx context.Context, q db.Querier, invoiceID string) (Receivable, error) {
	return getReceivable(ctx, q, `invoice_id = $1`, invoiceID)
}

// GetReceivableByReference loads the receivable carrying a remittance reference.
func GetReceivableByReference(ctx context.Context, q db.Querier, ref string) (Receivable, error) {
	return getReceivable(ctx, q, `reference = $1`, ref)
}

func getReceivable(ctx context.Context, q db.Querier, where string, arg string) (Receivable, error) {
	var r Receivable
	var cur string
	err := q.QueryRow(ctx, `SELECT invoice_id, customer_id, reference, currency, amount FROM payment_receivables WHERE `+where, arg).
		Scan(&r.InvoiceID, &r.CustomerID, &r.Reference, &cur, &r.Amount)
	r.Currency = money.Currency(cur)
	if errors.Is(err, pgx.ErrNoRows) {
		return Receivable{}, fmt.Errorf("receivable %s: %w", arg, ErrUnknownInvoice)
	}
	if err != nil {
		return Receivable{}, fmt.Errorf("load receivable %s: %w", arg, err)
	}
	return r, nil
}

// Paid returns the net amount collected on an invoice: succeeded charges and transfers minus refunds.
func Paid(ctx context.Context, q db.Querier, invoiceID string) (decimal.Decimal, error) {
	var paid decimal.Decimal
	err := q.QueryRow(ctx, `SELECT coalesce(sum(CASE WHEN kind = 'refund' THEN -amount ELSE amount END), 0)
		FROM payments WHERE invoice_id = $1 AND status = 'succeeded'`, invoiceID).Scan(&paid)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("sum payments of %s: %w", invoiceID, err)
	}
	return paid, nil
}

// Exception is an item revenue ops must look at.
type Exception struct {
	Kind      string // e.g. "unmatched_line", "overpayment", "missing_at_provider"
	Provider  provider.Name
	Source    string // what it is about: a statement line, provider id or idempotency key
	InvoiceID string
	Amount    decimal.Decimal
	Currency  money.Currency
	Reason    string
}

// RecordException stores e once per (kind, provider, source); created is false if it was already recorded.
func RecordException(ctx context.Context, q db.Querier, e Exception) (bool, error) {
	tag, err := q.Exec(ctx, `INSERT INTO payment_exceptions (kind, provider, source, invoice_id, amount, currency, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT ON CONSTRAINT payment_exceptions_uq DO NOTHING`,
		e.Kind, e.Provider, e.Source, e.InvoiceID, e.Amount, e.Currency, e.Reason)
	if err != nil {
		return false, fmt.Errorf("record %s exception for %s: %w", e.Kind, e.Source, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ListExceptions lists the unresolved exceptions of a provider, oldest first.
func ListExceptions(ctx context.Context, q db.Querier, prov provider.Name) ([]Exception, error) {
	rows, err := q.Query(ctx, `SELECT kind, provider, source, invoice_id, amount, currency, reason FROM payment_exceptions
		WHERE provider = $1 AND resolved_at IS NULL ORDER BY id`, prov)
	if err != nil {
		return nil, fmt.Errorf("list exceptions: %w", err)
	}
	defer rows.Close()
	var out []Exception
	for rows.Next() {
		var e Exception
		var p, cur string
		if err := rows.Scan(&e.Kind, &p, &e.Source, &e.InvoiceID, &e.Amount, &cur, &e.Reason); err != nil {
			return nil, fmt.Errorf("scan exception: %w", err)
		}
		e.Provider, e.Currency = provider.Name(p), money.Currency(cur)
		out = append(out, e)
	}
	return out, rows.Err()
}

// RefundedOf sums the succeeded refunds of a provider's charge (refund rows carry
// "<charge provider id>:<refund id>").
func RefundedOf(ctx context.Context, q db.Querier, prov provider.Name, chargeProviderID string) (decimal.Decimal, error) {
	var sum decimal.Decimal
	err := q.QueryRow(ctx, `SELECT coalesce(sum(amount), 0) FROM payments
		WHERE kind = 'refund' AND provider = $1 AND left(provider_id, length($2) + 1) = $2 || ':' AND status = 'succeeded'`,
		prov, chargeProviderID).Scan(&sum)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("sum refunds of %s: %w", chargeProviderID, err)
	}
	return sum, nil
}
