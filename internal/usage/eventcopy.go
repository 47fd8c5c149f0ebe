package usage

import (
	"bytes"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// copyEventsSQL loads new events; the columns are those appendEventRow writes, in its order.
const copyEventsSQL = `COPY usage_events (time, key, source, id, subject, type, data, late) FROM STDIN (FORMAT binary)`

// copySignature starts every binary COPY stream.
const copySignature = "PGCOPY\n\xff\r\n\x00"

// appendCopyHeader appends the header of a binary COPY stream: signature, flags and the length
// of the (empty) header extension.
func appendCopyHeader(b []byte) []byte {
	b = append(b, copySignature...)
	b = appendInt32(b, 0)
	return appendInt32(b, 0)
}

// appendCopyTrailer appends the end marker of a binary COPY stream.
func appendCopyTrailer(b []byte) []byte { return appendInt16(b, -1) }

// appendEventRow appends one usage_events row of a binary COPY stream: the field count, then each
// field as int32 length and bytes (-1 for NULL): time (timestamptz), key (uuid), source, id,
// subject and type (text), data (jsonb: version 1 and the JSON text; NULL when absent), late (bool).
func appendEventRow(b []byte, e *Event, key Key, late bool) []byte {
	b = appendInt16(b, 8)
	b = appendInt32(b, 8)
	b = appendInt64(b, pgMicros(e.Time))
	b = appendInt32(b, 16)
	b = append(b, key[:]...)
	for _, s := range [...]string{e.Source, e.ID, e.Subject, e.Type} {
		b = appendInt32(b, int32(len(s)))
		b = append(b, s...)
	}
	if len(e.Data) == 0 {
		b = appendInt32(b, -1)
	} else {
		b = appendInt32(b, int32(len(e.Data)+1))
		b = append(b, 1)
		b = append(b, e.Data...)
	}
	b = appendInt32(b, 1)
	if late {
		return append(b, 1)
	}
	return append(b, 0)
}

// copyEvents writes the group's new events (stored or late) into usage_events with a binary COPY
// built in buf (returned for reuse).
func copyEvents(ctx context.Context, tx pgx.Tx, fresh []*prepared, buf []byte) ([]byte, error) {
	b := appendCopyHeader(buf[:0])
	n := 0
	for _, p := range fresh {
		if p.status != Stored && p.status != Late {
			continue
		}
		b = appendEventRow(b, p.ev, p.key, p.status == Late)
		n++
	}
	if n == 0 {
		return b, nil // all seen before: nothing to copy
	}
	b = appendCopyTrailer(b)
	if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(b), copyEventsSQL); err != nil {
		return b, fmt.Errorf("copy events: %w", err)
	}
	return b, nil
}
