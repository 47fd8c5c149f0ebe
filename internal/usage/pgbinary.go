package usage

import (
	"encoding/binary"
	"time"
)

// PostgreSQL type OIDs of the values the ingest path encodes itself in the binary wire format.
const (
	oidInt2             = 21
	oidText             = 25
	oidTextArray        = 1009
	oidInt8             = 20
	oidInt8Array        = 1016
	oidTimestamptz      = 1184
	oidTimestamptzArray = 1185
	oidNumeric          = 1700
	oidNumericArray     = 1231
	oidUUID             = 2950
	oidUUIDArray        = 2951
)

// pgEpochMicros is 2000-01-01 00:00:00 UTC, PostgreSQL's timestamp epoch, in Unix microseconds.
const pgEpochMicros = 946_684_800 * 1_000_000

// pgMicros is t as a binary timestamptz: microseconds since 2000-01-01 UTC, sub-microseconds
// truncated toward the past as pgx does.
func pgMicros(t time.Time) int64 {
	return pgMicrosOfUnix(t.Unix()) + int64(t.Nanosecond())/1000
}

// pgMicrosOfUnix is a binary timestamptz of Unix seconds.
func pgMicrosOfUnix(sec int64) int64 { return sec*1_000_000 - pgEpochMicros }

// appendInt16, appendInt32 and appendInt64 append big-endian integers, as the wire format wants.
func appendInt16(b []byte, v int16) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }
func appendInt32(b []byte, v int32) []byte { return binary.BigEndian.AppendUint32(b, uint32(v)) }
func appendInt64(b []byte, v int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(v)) }

// pgArray builds a one-dimensional PostgreSQL array in the binary format (what array_recv reads):
// ndim, has-nulls flag, element type OID, then length and lower bound of the dimension, then each
// element as int32 length (-1 for NULL) and bytes.
type pgArray struct {
	buf   []byte
	n     int32
	nulls bool
}

// reset starts an empty array of elements of type elem, reusing the buffer.
func (a *pgArray) reset(elem uint32) {
	a.buf = appendInt32(a.buf[:0], 1) // ndim, set to 0 by bytes when the array stays empty
	a.buf = appendInt32(a.buf, 0)     // has nulls
	a.buf = appendInt32(a.buf, int32(elem))
	a.buf = appendInt32(a.buf, 0) // length, set by bytes
	a.buf = appendInt32(a.buf, 1) // lower bound
	a.n, a.nulls = 0, false
}

// null appends a NULL element.
func (a *pgArray) null() {
	a.buf = appendInt32(a.buf, -1)
	a.n++
	a.nulls = true
}

// text appends a text element (also varchar, or jsonb's text after its version byte).
func (a *pgArray) text(s string) {
	a.buf = appendInt32(a.buf, int32(len(s)))
	a.buf = append(a.buf, s...)
	a.n++
}

// uuid appends a uuid element.
func (a *pgArray) uuid(k [16]byte) {
	a.buf = appendInt32(a.buf, 16)
	a.buf = append(a.buf, k[:]...)
	a.n++
}

// int8 appends a bigint element.
func (a *pgArray) int8(v int64) {
	a.buf = appendInt32(a.buf, 8)
	a.buf = appendInt64(a.buf, v)
	a.n++
}

// timestamptz appends a timestamptz element given as pgMicros.
func (a *pgArray) timestamptz(micros int64) {
	a.buf = appendInt32(a.buf, 8)
	a.buf = appendInt64(a.buf, micros)
	a.n++
}

// numeric appends a numeric element.
func (a *pgArray) numeric(v amount) {
	at := len(a.buf)
	a.buf = appendInt32(a.buf, 0)
	a.buf = v.appendNumeric(a.buf)
	binary.BigEndian.PutUint32(a.buf[at:], uint32(len(a.buf)-at-4))
	a.n++
}

// bytes finishes the array and returns its encoding; it stays valid until the next reset.
func (a *pgArray) bytes() []byte {
	if a.n == 0 {
		binary.BigEndian.PutUint32(a.buf[0:], 0)
		return a.buf[:12] // no dimensions
	}
	if a.nulls {
		binary.BigEndian.PutUint32(a.buf[4:], 1)
	}
	binary.BigEndian.PutUint32(a.buf[12:], uint32(a.n))
	return a.buf
}
