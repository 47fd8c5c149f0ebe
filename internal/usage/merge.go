package usage

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
const closedPeriods = `SELECT subject, period_start, period_end FROM usage_closed_periods WHERE subject = ANY($1::text[])`

// insertKeys claims the keys of a group and returns those that were new. The keys come sorted
// (and unnest yields them in array order), so concurrent transactions wait on each other in one
// order and never deadlock. ON CONFLICT waits for a concurrent inserter of the same key to
// finish: a key not returned was stored by a committed transaction, which the next statement sees.
const insertKeys = `INSERT INTO usage_event_keys (key, content_hash, time)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS u (key, content_hash, time)
ON CONFLICT (key) DO NOTHING
RETURNING key`

// insertKeysTypes are the parameter types of insertKeys.
var insertKeysTypes = []uint32{oidUUIDArray, oidUUIDArray, oidTimestamptzArray}

// existingKeys reads the content hash stored for keys that were not new.
const existingKeys = `SELECT key, content_hash FROM usage_event_keys WHERE key = ANY($1::uuid[])`

// storeGroup runs inside a group transaction: close lock, closed periods and key claims in one
// round trip, then the stored content of the keys that were not new, a binary COPY of the new
// events, the group's rollups and adjustments, and each batch's InTx hook in queue order. fresh
// holds the first occurrence in the group of each key, sorted by key; repeats the later ones.
// The statements of the hot path go through pgconn with parameters encoded by hand.
func (in *Ingester) storeGroup(ctx context.Context, tx pgx.Tx, sc *scratch, slot int16, group []*batch, fresh []*prepared, repeats []groupRepeat) error {
	r := &sc.roll
	r.reset()
	sc.subjectOf = sc.subjectOf[:0]
	var keys, hashes, times pgArray
	keys.buf, hashes.buf, times.buf = sc.keys, sc.hashes, sc.times
	keys.reset(oidUUID)
	hashes.reset(oidUUID)
	times.reset(oidTimestamptz)
	for _, p := range fresh {
		p.status = Stored
		keys.uuid(p.key)
		hashes.uuid(p.hash)
		times.timestamptz(pgMicros(p.ev.Time))
		sc.subjectOf = append(sc.subjectOf, r.subjects.id(p.ev.Subject))
	}
	subjects := pgArray{buf: sc.subjects}
	subjects.reset(oidText)
	for _, s := range r.subjects.names {
		subjects.text(s)
	}
	for _, r := range repeats {
		r.p.status = ""
	}
	pc := tx.Conn().PgConn()
	b := &pgconn.Batch{}
	b.ExecParams(lockClose, [][]byte{appendInt64(nil, closeLock)}, []uint32{oidInt8}, binaryFormats[:1], nil)
	b.ExecParams(closedPeriods, [][]byte{subjects.bytes()}, []uint32{oidTextArray}, binaryFormats[:1], binaryFormats[:3])
	b.ExecParams(insertKeys, [][]byte{keys.bytes(), hashes.bytes(), times.bytes()}, insertKeysTypes, binaryFormats[:3], binaryFormats[:1])
	sc.keys, sc.hashes, sc.times, sc.subjects = keys.buf, hashes.buf, times.buf, subjects.buf
	mrr := pc.ExecBatch(ctx, b)
	defer mrr.Close()
	if rr, err := nextResult(mrr, "take the close lock"); err != nil {
		return err
	} else if _, err := rr.Close(); err != nil {
		return fmt.Errorf("take the close lock: %w", err)
	}
	if err := flagLate(mrr, fresh); err != nil {
		return err
	}
	inserted, err := readInserted(mrr, len(fresh))
	if err != nil {
		return err
	}
	if err := mrr.Close(); err != nil {
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
	r.add(fresh, sc.subjectOf)
	if rb := (&pgconn.Batch{}); r.queue(rb, slot) {
		if _, err := pc.ExecBatch(ctx, rb).ReadAll(); err != nil {
			return fmt.Errorf("update rollups: %w", err)
		}
	}
	if a := &r.adj; len(a.keys) > 0 {
		if _, err := tx.Exec(ctx, insertAdjustments, a.keys, a.meters, a.subjects, a.times, a.groups, a.values, a.uniques); err != nil {
			return fmt.Errorf("queue adjustments: %w", err)
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

// nextResult moves mrr to the result of its next statement; what names it in errors.
func nextResult(mrr *pgconn.MultiResultReader, what string) (*pgconn.ResultReader, error) {
	if !mrr.NextResult() {
		if err := mrr.Close(); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return nil, fmt.Errorf("%s: no result", what)
	}
	return mrr.ResultReader(), nil
}

// flagLate reads the closed periods of the group's subjects (binary rows of subject, start, end)
// and marks the new events that fall in one Late.
func flagLate(mrr *pgconn.MultiResultReader, fresh []*prepared) error {
	rr, err := nextResult(mrr, "read closed periods")
	if err != nil {
		return err
	}
	var closed map[string][][2]time.Time
	for rr.NextRow() {
		v := rr.Values()
		if len(v) != 3 || len(v[1]) != 8 || len(v[2]) != 8 {
			rr.Close()
			return fmt.Errorf("read closed periods: row of %d values of %v bytes, want subject and 8-byte period_start and period_end", len(v), valueLengths(v))
		}
		if closed == nil {
			closed = map[string][][2]time.Time{}
		}
		s := string(v[0])
		closed[s] = append(closed[s], [2]time.Time{timeOfMicros(v[1]), timeOfMicros(v[2])})
	}
	if _, err := rr.Close(); err != nil {
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

// timeOfMicros decodes a binary timestamptz.
func timeOfMicros(b []byte) time.Time {
	return time.UnixMicro(int64(binary.BigEndian.Uint64(b)) + pgEpochMicros).UTC()
}

// readInserted reads the keys the claim inserted; it returns nil when every one of the want keys
// was new (the common case), else the set of new keys.
func readInserted(mrr *pgconn.MultiResultReader, want int) (map[Key]struct{}, error) {
	rr, err := nextResult(mrr, "claim event keys")
	if err != nil {
		return nil, err
	}
	var set map[Key]struct{}
	n := 0
	for rr.NextRow() {
		v := rr.Values()
		if len(v) != 1 || len(v[0]) != 16 {
			rr.Close()
			return nil, fmt.Errorf("claim event keys: row of %d values of %v bytes, want one 16-byte key", len(v), valueLengths(v))
		}
		if set == nil {
			set = make(map[Key]struct{}, want)
		}
		set[Key(v[0])] = struct{}{}
		n++
	}
	if _, err := rr.Close(); err != nil {
		return nil, fmt.Errorf("claim event keys: %w", err)
	}
	if n == want {
		return nil, nil
	}
	if set == nil {
		set = map[Key]struct{}{}
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

// valueLengths lists the byte lengths of a binary result row's values, for errors about its shape.
func valueLengths(v [][]byte) []int {
	n := make([]int, len(v))
	for i, b := range v {
		n[i] = len(b)
	}
	return n
}
