// Package usage ingests metered usage events (CloudEvents 1.0 JSON), deduplicates them on
// (source, id), stores them in time-partitioned PostgreSQL tables with hourly rollups kept in the
// same transaction, flags events that arrive after their period was invoiced, and answers meter queries.
package usage

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// Event is one CloudEvents 1.0 usage event after decoding.
type Event struct {
	ID              string          // with Source, the idempotency key
	Source          string          // producer of the event, e.g. "gateway-eu-1"
	SpecVersion     string          // always "1.0"
	Type            string          // selects the meters, e.g. "llm.tokens"
	Subject         string          // the customer's external id
	Time            time.Time       // when the usage happened
	DataContentType string          // empty or application/json
	Data            json.RawMessage // the values read by meters; nil when absent
}

// Key is the dedup key of an event: the first 16 bytes of sha256(source NUL id).
type Key [16]byte

// Key returns the event's dedup key.
func (e *Event) Key() Key {
	k, _, _ := e.hashes(nil)
	return k
}

// ContentHash fingerprints what the event says (type, subject, time and data with insignificant
// whitespace removed), so a second event with the same key but other content is a conflict.
func (e *Event) ContentHash() [16]byte {
	_, h, _ := e.hashes(nil)
	return h
}

// hashes returns the event's Key and ContentHash, hashing source NUL id NUL type NUL subject NUL
// time (big-endian Unix nanoseconds) compact-data in buf (returned for reuse): the key is the
// sha256 of its first part.
func (e *Event) hashes(buf []byte) (Key, [16]byte, []byte) {
	b := append(buf[:0], e.Source...)
	b = append(b, 0)
	b = append(b, e.ID...)
	keySum := sha256.Sum256(b)
	b = append(b, 0)
	b = append(b, e.Type...)
	b = append(b, 0)
	b = append(b, e.Subject...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time.UnixNano()))
	if len(e.Data) > 0 {
		if !bytes.ContainsAny(e.Data, " \t\r\n") {
			b = append(b, e.Data...) // already compact
		} else {
			w := bytes.NewBuffer(b)
			if err := json.Compact(w, e.Data); err == nil {
				b = w.Bytes()
			} else {
				b = append(b, e.Data...) // Compact left w as it was
			}
		}
	}
	sum := sha256.Sum256(b)
	return Key(keySum[:16]), [16]byte(sum[:16]), b
}

// Problem is one reason an event (or a request) was refused: the event's index in its batch,
// the JSON path of the field and the reason.
type Problem struct {
	Index  int
	Field  string
	Reason string
}

func (p Problem) String() string { return fmt.Sprintf("event %d: %s: %s", p.Index, p.Field, p.Reason) }

// InvalidError lists every problem of a refused batch; nothing of the batch was stored.
type InvalidError struct {
	Problems []Problem
	Events   int // number of events in the batch
}

func (e *InvalidError) Error() string {
	if len(e.Problems) == 0 {
		return "invalid events"
	}
	if e.Events == 0 {
		return joinProblems(e.Problems)
	}
	return fmt.Sprintf("%d problem(s) in a batch of %d events, first: %s", len(e.Problems), e.Events, e.Problems[0])
}
