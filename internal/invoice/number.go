package invoice

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// series names a gap-free number series of a billing entity.
type series string

const (
	seriesInvoice    series = "invoice"
	seriesCreditNote series = "credit_note"
)

// NumberPrefix is the default prefix of a series: "INV-" or "CN-", the billing entity's letters
// and digits (upper-cased, at most 8), and "-"; e.g. INV-ACMEUS-000042.
func NumberPrefix(billingEntity string, kind string) string {
	code := referenceBody(billingEntity)
	if len(code) > 8 {
		code = code[:8]
	}
	p := "INV-"
	if kind == string(seriesCreditNote) {
		p = "CN-"
	}
	return p + code + "-"
}

// FormatNumber renders the n-th number of a series: the prefix and n zero-padded to 6 digits.
func FormatNumber(prefix string, n int64) string {
	return fmt.Sprintf("%s%06d", prefix, n)
}

// takeNumber increments the entity's counter row inside tx and returns the formatted number, in
// one statement that creates the series at 1 on first use. The row stays locked until tx ends, so
// concurrent finalizations of one entity queue up, and a rollback gives the number back: no gaps,
// no duplicates.
func takeNumber(ctx context.Context, tx pgx.Tx, billingEntity string, s series) (string, error) {
	var prefix string
	var n int64
	if err := tx.QueryRow(ctx, `
		INSERT INTO invoice_number_series AS s (billing_entity, kind, prefix, last_value) VALUES ($1, $2, $3, 1)
		ON CONFLICT (billing_entity, kind) DO UPDATE SET last_value = s.last_value + 1
		RETURNING s.prefix, s.last_value`,
		billingEntity, string(s), NumberPrefix(billingEntity, string(s))).Scan(&prefix, &n); err != nil {
		return "", fmt.Errorf("invoice: take next %s number of %s: %w", s, billingEntity, err)
	}
	return FormatNumber(strings.TrimSpace(prefix), n), nil
}
