package invoice

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/db"
)

// SaveDocuments stores the delivered HTML and PDF of a finalized invoice once; saving again is a
// no-op (an immutable invoice renders to the same documents, and the first delivery is kept).
func SaveDocuments(ctx context.Context, q db.Querier, invoiceID string, html, pdf []byte) error {
	if len(html) == 0 || len(pdf) == 0 {
		return fmt.Errorf("invoice %s: documents: html and pdf are required", invoiceID)
	}
	hh, ph := sha256.Sum256(html), sha256.Sum256(pdf)
	_, err := q.Exec(ctx, `INSERT INTO invoice_documents (invoice_id, html, pdf, html_sha256, pdf_sha256)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (invoice_id) DO NOTHING`, invoiceID, html, pdf, hh[:], ph[:])
	if err != nil {
		return fmt.Errorf("invoice %s: save documents: %w", invoiceID, err)
	}
	return nil
}

// Documents returns the delivered HTML and PDF of an invoice, or ErrNotFound before delivery.
func Documents(ctx context.Context, q db.Querier, invoiceID string) (html, pdf []byte, err error) {
	err = q.QueryRow(ctx, `SELECT html, pdf FROM invoice_documents WHERE invoice_id = $1`, invoiceID).Scan(&html, &pdf)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, fmt.Errorf("invoice %s documents: %w", invoiceID, ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("invoice %s documents: %w", invoiceID, err)
	}
	return html, pdf, nil
}
