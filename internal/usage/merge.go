package usage

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// closeLock is the advisory lock that orders ingestion and period closing: every ingest
// transaction holds it shared, ClosePeriod exclusively, so an event is either counted before a
// period closes (and seen by its invoice) or flagged late after.
const closeLock = 727279

// lockClose takes the close lock shared; it is the first statement of every ingest transaction.
// It also turns JIT off for the transaction: no ingest statement runs long enough to repay
// compiling, but a large lookup of stored keys could be costed above jit_above_cost.
const lockClose = `SELECT pg_advisory_xact_lock_shared($1), set_config('jit', 'off', true)`

// closedPeriods lists the closed periods of the subjects of a group.
const closedPeriods = `SELECT subject, period_start, period_end FROM usage_closed_periods WHERE subject = ANY($1)`

// insertKeys claims the keys of a group (sorted, so that concurrent transactions wait on each
// other in one order and never deadlock) and returns those that were new. ON CONFLICT waits for a
// concurrent inserter of the same key to finish: a key not returned was stored by a committed
// transaction, which the next statement sees.
const insertKeys = `INSERT INTO usage_event_keys (key, content_hash, time)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS u (key, content_hash, time) ORDER BY key
ON CONFLICT (key) DO NOTHING
RETURNING key`

// existingKeys reads the content hash stored for keys that were not new.
const existingKeys = `SELECT key, content_hash FROM usage_event_keys WHERE key = ANY($1::uuid[])`

// storeGroup runs inside a group transaction: close lock, closed periods and key claims in one
// round trip, then the stored content of the keys that were not new, a binary COPY of the new
// events, the group's rollups and adjustments, and each batch's InTx hook in queue order. fresh
// holds the first occurrence in the group of each key, sorted by key; repeats the later ones.
func (in *Ingester) storeGroup(ctx context.Context, tx pgx.Tx, sc *scratch, slot int16, group []*batch, fresh []*prepared, repeats []groupRepeat) error {
	keys, hashes, times := make([][16]byte, len(fresh)), make([][16]byte, len(fresh)), make([]time.Time, len(fresh))
	seen := make(map[string]bool, 1024)
	subjects := make([]string, 0, 1024)
	for j, p := range fresh {
		p.status = Stored
		keys[j], hashes[j], times[j] = p.key, p.hash, p.ev.Time
		if s := p.ev.Subject; !seen[s] {
			seen[s] = true
			subjects = append(subjects, s)
		}
	}
	for _, r := range repeats {
		r.p.status = ""
	}
	b := &pgx.Batch{}
	b.Queue(lockClose, int64(closeLock))
	b.Queue(closedPeriods, subjects)
	b.Queue(insertKeys, keys, hashes, times)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("take the close lock: %w", err)
	}
	if err := flagLate(br, fresh); err != nil {
		return err
	}
	inserted, err := readInserted(br, len(fresh))
	if err != nil {
		return err
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("claim event keys: %w", err)
	}
	var existing map[Key][16]byte
	if inserted != nil {
		if existing, err = classifyExisting(ctx, tx, fresh, inserted); err != nil {
			return err
		}
	}
	resolveRepeats(repeats, existing)
	if sc.copyBuf, err = copyEvents(ctx, tx, fresh, sc.copyBuf); err != nil {
		return err
	}
	rb := &pgx.Batch{}
	queueRollups(rb, slot, fresh)
	if rb.Len() > 0 {
		if err := tx.SendBatch(ctx, rb).Close(); err != nil {
			return fmt.Errorf("update rollups: %w", err)
		}
	}
	for _, g := range group {
		if g.opts.InTx == nil {
			continue
		}
		hctx, cancel := hookContext(g.ctx, ctx)
		err := g.opts.InTx(hctx, tx)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// flagLate reads the closed periods of the group's subjects from the batch results and marks
// the new events that fall in one Late.
func flagLate(br pgx.BatchResults, fresh []*prepared) error {
	rows, err := br.Query()
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
	for _, p := range fresh {
		t := p.ev.Time
		for _, c := range closed[p.ev.Subject] {
			if !t.Before(c[0]) && t.Before(c[1]) {
				p.status = Late
				break
			}
		}
	}
	return nil
}

// readInserted reads the keys the claim inserted; it returns nil when every one of the want keys
// was new (the common case), else the set of new keys.
func readInserted(br pgx.BatchResults, want int) (map[Key]struct{}, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("claim event keys: %w", err)
	}
	got := make([]Key, 0, want)
	for rows.Next() {
		var k [16]byte
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim event keys: %w", err)
		}
		got = append(got, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim event keys: %w", err)
	}
	if len(got) == want {
		return nil, nil
	}
	set := make(map[Key]struct{}, len(got))
	for _, k := range got {
		set[k] = struct{}{}
	}
	return set, nil
}

// classifyExisting marks the events whose key was stored before as duplicates (same content) or
// conflicts, reading only those keys, and returns their stored content hashes.
func classifyExisting(ctx context.Context, tx pgx.Tx, fresh []*prepared, inserted map[Key]struct{}) (map[Key][16]byte, error) {
	var old [][16]byte
	for _, p := range fresh {
		if _, ok := inserted[p.key]; !ok {
			old = append(old, p.key)
		}
	}
	rows, err := tx.Query(ctx, existingKeys, old)
	if err != nil {
		return nil, fmt.Errorf("classify duplicates: %w", err)
	}
	existing := make(map[Key][16]byte, len(old))
	for rows.Next() {
		var k, h [16]byte
		if err := rows.Scan(&k, &h); err != nil {
			rows.Close()
			return nil, fmt.Errorf("classify duplicates: %w", err)
		}
		existing[k] = h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("classify duplicates: %w", err)
	}
	if len(existing) != len(old) {
		return nil, fmt.Errorf("classify duplicates: %d events were not new but %d existing keys were found", len(old), len(existing))
	}
	for _, p := range fresh {
		h, ok := existing[p.key]
		switch {
		case !ok:
		case h == p.hash:
			p.status = Duplicate
		default:
			p.status = Conflict
		}
	}
	return existing, nil
}

// compareKeys orders keys as PostgreSQL orders uuids (bytewise).
func compareKeys(a, b Key) int { return bytes.Compare(a[:], b[:]) }

// hourOf truncates t to its UTC hour.
func hourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }
