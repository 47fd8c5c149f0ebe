package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/db"
)

// PeriodStatus is whether a period accepts entries.
type PeriodStatus string

// A period is open until closed; it is never reopened.
const (
	PeriodOpen   PeriodStatus = "open"
	PeriodClosed PeriodStatus = "closed"
)

// Period is one entity's accounting month.
type Period struct {
	Entity   string       `json:"entity"`
	Period   string       `json:"period"` // "YYYY-MM"
	Status   PeriodStatus `json:"status"`
	ClosedAt time.Time    `json:"closed_at,omitzero"`
	ClosedBy string       `json:"closed_by,omitempty"`
}

// ClosePeriod closes an entity's period so PostgreSQL refuses entries dated in it; closing a
// closed period again is a no-op.
func ClosePeriod(ctx context.Context, q db.Querier, entity, period, by string) error {
	var ps problems
	if entity == "" {
		ps.Add("entity", "is required")
	}
	if _, err := ParsePeriod(period); err != nil {
		ps.Add("period", "%v", err)
	}
	if by == "" {
		ps.Add("closed_by", "is required")
	}
	if err := ps.Err("", "period close"); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `
		INSERT INTO ledger_periods (entity, period, status, closed_at, closed_by) VALUES ($1, $2, 'closed', now(), $3)
		ON CONFLICT (entity, period) DO UPDATE SET status = 'closed', closed_at = now(), closed_by = EXCLUDED.closed_by
		WHERE ledger_periods.status = 'open'`, entity, period, by)
	if err != nil {
		return fmt.Errorf("ledger: close %s %s: %w", entity, period, err)
	}
	return nil
}

// Periods lists the periods of an entity that have seen an entry or a close, oldest first.
func Periods(ctx context.Context, q db.Querier, entity string) ([]Period, error) {
	rows, err := q.Query(ctx, `SELECT entity, period, status, coalesce(closed_at, 'epoch'::timestamptz), coalesce(closed_by, '')
		FROM ledger_periods WHERE entity = $1 ORDER BY period`, entity)
	if err != nil {
		return nil, fmt.Errorf("ledger: periods of %s: %w", entity, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Period, error) {
		var p Period
		err := r.Scan(&p.Entity, &p.Period, &p.Status, &p.ClosedAt, &p.ClosedBy)
		if p.Status == PeriodOpen {
			p.ClosedAt = time.Time{}
		}
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: periods of %s: %w", entity, err)
	}
	return out, nil
}
