package invoice

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/db"
)

// Filter selects invoices for List; empty fields do not filter.
type Filter struct {
	CustomerID    string
	ContractID    string
	BillingEntity string
	Statuses      []Status
	DueBefore     Date   // only invoices due strictly before this date (e.g. overdue as of today)
	After         string // the last id of the previous page; pages run newest first
	Limit         int    // 1-500; 0 means 100
}

// List returns invoices (without lines) matching f, newest first, and the cursor of the next page
// ("" when this is the last page).
func List(ctx context.Context, q db.Querier, f Filter) ([]Invoice, string, error) {
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	if limit < 1 || limit > 500 {
		return nil, "", &RuleError{Field: "limit", Reason: fmt.Sprintf("must be between 1 and 500, got %d", limit)}
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.CustomerID != "" {
		where = append(where, "customer_id = "+arg(f.CustomerID))
	}
	if f.ContractID != "" {
		where = append(where, "contract_id = "+arg(f.ContractID))
	}
	if f.BillingEntity != "" {
		where = append(where, "billing_entity = "+arg(f.BillingEntity))
	}
	if len(f.Statuses) > 0 {
		ss := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			if !s.Valid() {
				return nil, "", &RuleError{Field: fmt.Sprintf("statuses[%d]", i), Reason: fmt.Sprintf("unknown status %q", s)}
			}
			ss[i] = string(s)
		}
		where = append(where, "status = ANY("+arg(ss)+")")
	}
	if !f.DueBefore.IsZero() {
		where = append(where, "due_date < "+arg(f.DueBefore.Time()))
	}
	if f.After != "" {
		var at time.Time
		if err := q.QueryRow(ctx, `SELECT created_at FROM invoices WHERE id = $1`, f.After).Scan(&at); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return nil, "", &RuleError{Field: "after", Reason: fmt.Sprintf("no invoice %q", f.After)}
			}
			return nil, "", fmt.Errorf("invoice: list: read cursor: %w", err)
		}
		where = append(where, "(created_at, id) < ("+arg(at)+", "+arg(f.After)+")")
	}
	sql := `SELECT ` + invoiceColumns + ` FROM invoices`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY created_at DESC, id DESC LIMIT " + arg(limit+1)
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, "", fmt.Errorf("invoice: list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Invoice, error) { return scanInvoice(r) })
	if err != nil {
		return nil, "", fmt.Errorf("invoice: list: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// PaymentRecord is a payment as stored against an invoice.
type PaymentRecord struct {
	Payment
	CreatedAt time.Time `json:"created_at"`
}

// Payments lists the payments applied to an invoice, in the order they were received.
func Payments(ctx context.Context, q db.Querier, invoiceID string) ([]PaymentRecord, error) {
	rows, err := q.Query(ctx, `
		SELECT key, invoice_id, amount, received_at, method, provider_ref, created_at
		FROM invoice_payments WHERE invoice_id = $1 ORDER BY received_at, key`, invoiceID)
	if err != nil {
		return nil, fmt.Errorf("invoice: payments of %s: %w", invoiceID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PaymentRecord, error) {
		var p PaymentRecord
		err := r.Scan(&p.Key, &p.InvoiceID, &p.Amount, &p.ReceivedAt, &p.Method, &p.ProviderRef, &p.CreatedAt)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("invoice: payments of %s: %w", invoiceID, err)
	}
	return out, nil
}
