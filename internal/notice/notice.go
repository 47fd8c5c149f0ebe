// Package notice keeps the notices revenue ops must act on (dunning steps, uncollectible
// invoices, rejected deals, blocked reconciliations), each recorded once.
package notice

import (
	"context"
	"fmt"
	"time"

	"github.com/revhub/revhub/internal/db"
)

// Notice is one thing revenue ops must know.
type Notice struct {
	ID        int64     `json:"id"`
	Subject   string    `json:"subject"` // e.g. invoice:inv_123, opportunity:006...
	Kind      string    `json:"kind"`    // e.g. uncollectible, payment_reminder, unmappable_deal
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
}

// Raise records a notice once per (subject, kind, dedupKey); it reports whether it is new.
func Raise(ctx context.Context, q db.Querier, subject, kind, dedupKey, message string) (bool, error) {
	switch {
	case subject == "":
		return false, fmt.Errorf("subject: must not be empty")
	case kind == "":
		return false, fmt.Errorf("kind: must not be empty")
	}
	tag, err := q.Exec(ctx, `INSERT INTO ops_notices (subject, kind, dedup_key, message) VALUES ($1, $2, $3, $4)
		ON CONFLICT (subject, kind, dedup_key) DO NOTHING`, subject, kind, dedupKey, message)
	if err != nil {
		return false, fmt.Errorf("raise notice %s %s: %w", kind, subject, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Open lists unacknowledged notices, oldest first, optionally of one kind.
func Open(ctx context.Context, q db.Querier, kind string, limit int) ([]Notice, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := q.Query(ctx, `SELECT id, subject, kind, message, created_at FROM ops_notices
		WHERE acknowledged_at IS NULL AND ($1 = '' OR kind = $1) ORDER BY id LIMIT $2`, kind, limit)
	if err != nil {
		return nil, fmt.Errorf("list notices: %w", err)
	}
	defer rows.Close()
	var out []Notice
	for rows.Next() {
		var n Notice
		if err := rows.Scan(&n.ID, &n.Subject, &n.Kind, &n.Message, &n.CreatedAt); err != nil {
			return nil, fmt.Errorf("list notices: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
