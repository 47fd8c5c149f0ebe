package usage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// stageColumns are the columns of the per-connection staging table, in COPY order.
var stageColumns = []string{"idx", "key", "hash", "source", "id", "subject", "type", "time", "data"}

// createStage also turns JIT off for the transaction: the planner cannot estimate the fresh staging
// table and would spend far longer compiling the merge than running it.
const createStage = `SET LOCAL jit = off; CREATE TEMP TABLE IF NOT EXISTS usage_stage (
    idx int4 NOT NULL, key bytea NOT NULL, hash bytea NOT NULL, source text NOT NULL, id text NOT NULL,
    subject text NOT NULL, type text NOT NULL, time timestamptz NOT NULL, data jsonb
) ON COMMIT DELETE ROWS`

// mergeSQL inserts the staged events whose key is new (waiting on concurrent inserts of the same
// key), flags those that fall in a closed period, and returns every staged row that was not stored
// as a plain new event: late ones, and existing ones with whether their content matches. The main
// SELECT sees the table as it was before the statement, so k finds only previously stored keys; it
// is a per-row index probe (a join would hash the whole key table).
const mergeSQL = `WITH ins AS (
    INSERT INTO usage_event_keys (key, content_hash, time)
    SELECT key, hash, time FROM usage_stage ORDER BY key
    ON CONFLICT (key) DO NOTHING
    RETURNING key
), ev AS (
    INSERT INTO usage_events (time, key, source, id, subject, type, data, late)
    SELECT s.time, s.key, s.source, s.id, s.subject, s.type, s.data,
           EXISTS (SELECT 1 FROM usage_closed_periods c
                   WHERE c.subject = s.subject AND c.period_start <= s.time AND s.time < c.period_end)
    FROM usage_stage s JOIN ins ON ins.key = s.key
    RETURNING key, late
)
SELECT s.idx, e.key IS NOT NULL, coalesce(e.late, false),
       (SELECT k.content_hash = s.hash FROM usage_event_keys k WHERE k.key = s.key)
FROM usage_stage s
LEFT JOIN ev e ON e.key = s.key
WHERE e.key IS NULL OR e.late`

// merge runs inside the ingest transaction: stage, merge, classify, then rollups and adjustments.
func (in *Ingester) merge(ctx context.Context, tx pgx.Tx, preps []prepared, unique []int, opts IngestOptions) error {
	if _, err := tx.Exec(ctx, createStage); err != nil {
		return fmt.Errorf("staging table: %w", err)
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
		return []any{int32(i), p.key[:], p.hash[:], p.ev.Source, p.ev.ID, p.ev.Subject, p.ev.Type, p.ev.Time, data}, nil
	}))
	if err != nil {
		return fmt.Errorf("copy into staging: %w", err)
	}
	for _, i := range unique {
		preps[i].status = Stored
	}
	rows, err := tx.Query(ctx, mergeSQL)
	if err != nil {
		return fmt.Errorf("merge events: %w", err)
	}
	var raced []int
	for rows.Next() {
		var idx int32
		var isNew, late bool
		var same *bool
		if err := rows.Scan(&idx, &isNew, &late, &same); err != nil {
			rows.Close()
			return fmt.Errorf("merge events: %w", err)
		}
		p := &preps[idx]
		switch {
		case isNew && late:
			p.status = Late
		case isNew:
			p.status = Stored
		case same == nil:
			raced = append(raced, int(idx)) // stored by a concurrent batch after this statement began
		case *same:
			p.status = Duplicate
		default:
			p.status = Conflict
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("merge events: %w", err)
	}
	if len(raced) > 0 {
		if err := classifyRaced(ctx, tx, preps, raced); err != nil {
			return err
		}
	}
	b := &pgx.Batch{}
	queueRollups(b, preps, unique)
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

// classifyRaced looks up keys that a concurrent transaction committed while the merge ran.
func classifyRaced(ctx context.Context, tx pgx.Tx, preps []prepared, raced []int) error {
	keys := make([][]byte, len(raced))
	for j, i := range raced {
		keys[j] = preps[i].key[:]
	}
	rows, err := tx.Query(ctx, `SELECT key, content_hash FROM usage_event_keys WHERE key = ANY($1)`, keys)
	if err != nil {
		return fmt.Errorf("look up concurrent duplicates: %w", err)
	}
	found := map[Key][]byte{}
	for rows.Next() {
		var k, h []byte
		if err := rows.Scan(&k, &h); err != nil {
			rows.Close()
			return fmt.Errorf("look up concurrent duplicates: %w", err)
		}
		found[Key(k)] = h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("look up concurrent duplicates: %w", err)
	}
	for _, i := range raced {
		h, ok := found[preps[i].key]
		if !ok {
			return fmt.Errorf("event %d: key neither inserted nor found", i)
		}
		if string(h) == string(preps[i].hash[:]) {
			preps[i].status = Duplicate
		} else {
			preps[i].status = Conflict
		}
	}
	return nil
}

// hourOf truncates t to its UTC hour.
func hourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }
