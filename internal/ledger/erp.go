package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/revhub/revhub/internal/db"
)

// ERPPosting records that a ledger entry reached an ERP under an external id.
type ERPPosting struct {
	System     string    `json:"system"` // e.g. "netsuite"
	EntryKey   string    `json:"entry_key"`
	ExternalID string    `json:"external_id"` // several entries share one when summarized
	InternalID string    `json:"internal_id,omitempty"`
	PostedAt   time.Time `json:"posted_at"`
}

// Unposted returns up to limit entries (oldest first) not yet recorded as posted to system,
// optionally only those of one entity and period range.
func Unposted(ctx context.Context, q db.Querier, system string, bq BalanceQuery, limit int) ([]Entry, error) {
	if limit <= 0 {
		limit = 500
	}
	where, args := bq.entryFilter([]any{system, limit}, false)
	return loadEntries(ctx, q, `
		WHERE NOT EXISTS (SELECT 1 FROM ledger_erp_postings x WHERE x.system = $1 AND x.entry_key = e.key)
		  AND `+where+`
		ORDER BY e.created_at, e.key LIMIT $2`, args...)
}

// MarkPosted records that the entries reached system as externalID; recording the same facts
// again is a no-op, while a different external id for an already recorded entry is ErrConflict.
func MarkPosted(ctx context.Context, q db.Querier, system string, keys []string, externalID, internalID string, at time.Time) error {
	if system == "" || externalID == "" || len(keys) == 0 {
		return fmt.Errorf("ledger: mark posted: system, external id and at least one entry key are required")
	}
	if _, err := q.Exec(ctx, `
		INSERT INTO ledger_erp_postings (system, entry_key, external_id, internal_id, posted_at)
		SELECT $1, k, $3, $4, $5 FROM unnest($2::text[]) AS k
		ON CONFLICT (system, entry_key) DO NOTHING`, system, keys, externalID, internalID, at); err != nil {
		return fmt.Errorf("ledger: mark %d entries posted to %s as %s: %w", len(keys), system, externalID, err)
	}
	var clash string
	err := q.QueryRow(ctx, `SELECT coalesce(min(entry_key), '') FROM ledger_erp_postings
		WHERE system = $1 AND entry_key = ANY($2) AND external_id <> $3`, system, keys, externalID).Scan(&clash)
	if err != nil {
		return fmt.Errorf("ledger: check posted records: %w", err)
	}
	if clash != "" {
		return fmt.Errorf("entry %s already posted to %s under another external id: %w", clash, system, ErrConflict)
	}
	return nil
}

// ERPPostings lists what was posted to system for entries of an entity within a period range.
func ERPPostings(ctx context.Context, q db.Querier, system string, bq BalanceQuery) ([]ERPPosting, error) {
	where, args := bq.entryFilter([]any{system}, false)
	rows, err := q.Query(ctx, `
		SELECT x.system, x.entry_key, x.external_id, x.internal_id, x.posted_at
		  FROM ledger_erp_postings x JOIN ledger_entries e ON e.key = x.entry_key
		 WHERE x.system = $1 AND `+where+`
		 ORDER BY x.external_id, x.entry_key`, args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: erp postings: %w", err)
	}
	defer rows.Close()
	var out []ERPPosting
	for rows.Next() {
		var p ERPPosting
		if err := rows.Scan(&p.System, &p.EntryKey, &p.ExternalID, &p.InternalID, &p.PostedAt); err != nil {
			return nil, fmt.Errorf("ledger: scan erp posting: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: erp postings: %w", err)
	}
	return out, nil
}
