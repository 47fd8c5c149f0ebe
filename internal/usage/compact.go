package usage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// compactRollups folds every committed rollup delta into usage_rollups in one statement.
const compactRollups = `WITH d AS (
    DELETE FROM usage_rollup_deltas RETURNING *
), agg AS (
    SELECT meter, subject, hour, groups, sum(count)::bigint AS count, sum(sum) AS sum, max(max) AS max,
           (array_agg(latest ORDER BY latest_time DESC, latest_key DESC) FILTER (WHERE latest_time IS NOT NULL))[1] AS latest,
           max(latest_time) AS latest_time,
           (array_agg(latest_key ORDER BY latest_time DESC, latest_key DESC) FILTER (WHERE latest_time IS NOT NULL))[1] AS latest_key
    FROM d GROUP BY meter, subject, hour, groups
)
INSERT INTO usage_rollups AS r (meter, subject, hour, groups, count, sum, max, latest, latest_time, latest_key)
SELECT * FROM agg ORDER BY meter, subject, hour, groups
ON CONFLICT (meter, subject, hour, groups) DO UPDATE SET
    count = r.count + excluded.count,
    sum = r.sum + excluded.sum,
    max = greatest(r.max, excluded.max),
    latest = CASE WHEN r.latest_time IS NULL OR (excluded.latest_time, excluded.latest_key) > (r.latest_time, r.latest_key)
                  THEN excluded.latest ELSE r.latest END,
    latest_key = CASE WHEN r.latest_time IS NULL OR (excluded.latest_time, excluded.latest_key) > (r.latest_time, r.latest_key)
                      THEN excluded.latest_key ELSE r.latest_key END,
    latest_time = CASE WHEN r.latest_time IS NULL OR (excluded.latest_time, excluded.latest_key) > (r.latest_time, r.latest_key)
                       THEN excluded.latest_time ELSE r.latest_time END`

const compactDistinct = `WITH d AS (
    DELETE FROM usage_rollup_distinct_deltas RETURNING *
)
INSERT INTO usage_rollup_distinct (meter, subject, hour, groups, value)
SELECT DISTINCT meter, subject, hour, groups, value FROM d ORDER BY 1, 2, 3, 4, 5
ON CONFLICT DO NOTHING`

// Compact folds the rollup deltas written by ingest transactions into the hourly rollups, in one
// transaction (queries read rollups plus deltas, so their answers do not change). One compactor
// runs at a time across processes; a concurrent call returns at once with zero.
func Compact(ctx context.Context, pool *pgxpool.Pool) (rows int64, err error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("compact rollups: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(ctx)
		}
	}()
	var got bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(727278)`).Scan(&got); err != nil {
		return 0, fmt.Errorf("compact rollups: lock: %w", err)
	}
	if !got {
		return 0, tx.Rollback(ctx)
	}
	if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
		return 0, fmt.Errorf("compact rollups: %w", err)
	}
	for _, sql := range []string{compactRollups, compactDistinct} {
		tag, err := tx.Exec(ctx, sql)
		if err != nil {
			return 0, fmt.Errorf("compact rollups: %w", err)
		}
		rows += tag.RowsAffected()
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("compact rollups: commit: %w", err)
	}
	return rows, nil
}

// RunCompactor compacts rollup deltas every interval (default 1s) until ctx ends. Run it in every
// API process (or at least one); without it queries stay exact but read more delta rows.
func (in *Ingester) RunCompactor(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := Compact(ctx, in.pool); err != nil && ctx.Err() == nil {
			in.opts.Logger.Warn("usage: compact rollups", "err", err)
		}
	}
}
