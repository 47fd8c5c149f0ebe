package usage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// stageColumns are the columns of the per-connection staging table, in COPY order.
var stageColumns = []string{"idx", "key", "hash", "source", "id", "subject", "type", "time", "data", "late"}

// closeLock is the advisory lock that orders ingestion and period closing: every ingest
// transaction holds it shared, ClosePeriod exclusively, so an event is either counted before a
// period closes (and seen by its invoice) or flagged late after.
const closeLock = 727279

// beginIngest turns JIT off for the transaction (the planner cannot estimate the fresh staging
// table and would spend far longer compiling the merge than running it), takes the close lock
// shared and makes sure the connection's staging table exists.
const beginIngest = `SET LOCAL jit = off;
SELECT pg_advisory_xact_lock_shared(727279);
CREATE TEMP TABLE IF NOT EXISTS usage_stage (
    idx int4 NOT NULL, key uuid NOT NULL, hash uuid NOT NULL, source text NOT NULL, id text NOT NULL,
    subject text COLLATE "C" NOT NULL, type text NOT NULL, time timestamptz NOT NULL, data jsonb, late boolean NOT NULL
) ON COMMIT DELETE ROWS`

// mergeSQL inserts the staged events whose key is new (waiting on concurrent inserts of the same
// key); its row count says how many were new.
const mergeSQL = `WITH ins AS (
    INSERT INTO usage_event_keys (key, content_hash, time)
    SELECT key, hash, time FROM usage_stage ORDER BY key
    ON CONFLICT (key) DO NOTHING
    RETURNING key
)
INSERT INTO usage_events (time, key, source, id, subject, type, data, late)
SELECT s.time, s.key, s.source, s.id, s.subject, s.type, s.data, s.late
FROM usage_stage s WHERE s.key IN (SELECT key FROM ins)`

// existingSQL lists the staged events whose key was stored before this transaction (xmin tells
// this transaction's rows apart) and whether their content matches; a scalar subquery per row
// keeps it an index probe rather than a join over the whole key table.
const existingSQL = `SELECT idx, same FROM (
    SELECT s.idx, (SELECT CASE WHEN k.xmin = pg_current_xact_id()::xid THEN NULL ELSE k.content_hash = s.hash END
                   FROM usage_event_keys k WHERE k.key = s.key) AS same
    FROM usage_stage s) x
WHERE same IS NOT NULL`

// merge runs inside the ingest transaction: flag late events, stage, merge, classify, then rollups
// and adjustments.
func (in *Ingester) merge(ctx context.Context, tx pgx.Tx, slot int16, preps []prepared, unique []int, opts IngestOptions) error {
	if _, err := tx.Exec(ctx, beginIngest); err != nil {
		return fmt.Errorf("begin ingest: %w", err)
	}
	if err := flagLate(ctx, tx, preps, unique); err != nil {
		return err
	}
	n := 0
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"usage_stage"}, stageColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if n == len(unique) {
			return nil, nil
		}
		i := unique[n]
		n++
		p := &preps[i]
		var data any
		if p.ev.Data != nil {
			data = json.RawMessage(p.ev.Data)
		}
		return []any{int32(i), [16]byte(p.key), p.hash, p.ev.Source, p.ev.ID, p.ev.Subject, p.ev.Type, p.ev.Time, data, p.status == Late}, nil
	}))
	if err != nil {
		return fmt.Errorf("copy into staging: %w", err)
	}
	tag, err := tx.Exec(ctx, mergeSQL)
	if err != nil {
		return fmt.Errorf("merge events: %w", err)
	}
	if int(tag.RowsAffected()) < len(unique) {
		if err := classifyExisting(ctx, tx, preps, len(unique)-int(tag.RowsAffected())); err != nil {
			return err
		}
	}
	b := &pgx.Batch{}
	queueRollups(b, slot, preps, unique)
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("update rollups: %w", err)
		}
	}
	if opts.InTx != nil {
		if err := opts.InTx(ctx, tx); err != nil {
			return err
		}
	}
	return nil
}

// flagLate marks the events that fall in a closed period of their subject (status Late; the
// others Stored until the merge says otherwise).
func flagLate(ctx context.Context, tx pgx.Tx, preps []prepared, unique []int) error {
	seen := make(map[string]bool, 64)
	subjects := make([]string, 0, 64)
	for _, i := range unique {
		preps[i].status = Stored
		if s := preps[i].ev.Subject; !seen[s] {
			seen[s] = true
			subjects = append(subjects, s)
		}
	}
	rows, err := tx.Query(ctx, `SELECT subject, period_start, period_end FROM usage_closed_periods WHERE subject = ANY($1)`, subjects)
	if err != nil {
		return fmt.Errorf("read closed periods: %w", err)
	}
	closed := map[string][][2]time.Time{}
	for rows.Next() {
		var s string
		var p [2]time.Time
		if err := rows.Scan(&s, &p[0], &p[1]); err != nil {
			rows.Close()
			return fmt.Errorf("read closed periods: %w", err)
		}
		closed[s] = append(closed[s], p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read closed periods: %w", err)
	}
	if len(closed) == 0 {
		return nil
	}
	for _, i := range unique {
		t := preps[i].ev.Time
		for _, p := range closed[preps[i].ev.Subject] {
			if !t.Before(p[0]) && t.Before(p[1]) {
				preps[i].status = Late
				break
			}
		}
	}
	return nil
}

// classifyExisting marks the staged events whose key was already stored as duplicates or conflicts.
func classifyExisting(ctx context.Context, tx pgx.Tx, preps []prepared, want int) error {
	rows, err := tx.Query(ctx, existingSQL)
	if err != nil {
		return fmt.Errorf("classify duplicates: %w", err)
	}
	found := 0
	for rows.Next() {
		var idx int32
		var same bool
		if err := rows.Scan(&idx, &same); err != nil {
			rows.Close()
			return fmt.Errorf("classify duplicates: %w", err)
		}
		found++
		if same {
			preps[idx].status = Duplicate
		} else {
			preps[idx].status = Conflict
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("classify duplicates: %w", err)
	}
	if found != want {
		return fmt.Errorf("classify duplicates: %d events were not new but %d existing keys were found", want, found)
	}
	return nil
}

// hourOf truncates t to its UTC hour.
func hourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }
