// Package audit records every manual action (approvals, retries, skips, key changes, overrides)
// in an append-only log with the actor, time and reason.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/revhub/revhub/internal/db"
)

// Entry is one recorded action.
type Entry struct {
	ID      int64           `json:"id"`
	At      time.Time       `json:"at"`
	Actor   string          `json:"actor"`
	Action  string          `json:"action"`
	Subject string          `json:"subject"`
	Reason  string          `json:"reason"`
	Details json.RawMessage `json:"details,omitempty"`
}

// Record appends an entry; actor and action are required.
func Record(ctx context.Context, q db.Querier, actor, action, subject, reason string, details any) (int64, error) {
	if actor == "" {
		return 0, fmt.Errorf("actor: must not be empty")
	}
	if action == "" {
		return 0, fmt.Errorf("action: must not be empty")
	}
	raw := []byte("{}")
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return 0, fmt.Errorf("details: %w", err)
		}
		raw = b
	}
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO audit_log (actor, action, subject, reason, details) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		actor, action, subject, reason, raw).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record audit %s: %w", action, err)
	}
	return id, nil
}

// List returns entries newest first, optionally for one subject, at most limit.
func List(ctx context.Context, q db.Querier, subject string, limit int) ([]Entry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := q.Query(ctx, `SELECT id, at, actor, action, subject, reason, details FROM audit_log
		WHERE ($1 = '' OR subject = $1) ORDER BY id DESC LIMIT $2`, subject, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Subject, &e.Reason, &e.Details); err != nil {
			return nil, fmt.Errorf("list audit: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
