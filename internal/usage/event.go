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
	h := sha256.New()
	h.Write([]byte(e.Source))
	h.Write([]byte{0})
	h.Write([]byte(e.ID))
	var k Key
	copy(k[:], h.Sum(nil))
	return k
}

// ContentHash fingerprints what the event says (type, subject, time and data with insignificant
// whitespace removed), so a second event with the same key but other content is a conflict.
func (e *Event) ContentHash() [16]byte {
	h := sha256.New()
	h.Write([]byte(e.Source))
	h.Write([]byte{0})
	h.Write([]byte(e.ID))
	h.Write([]byte{0})
	h.Write([]byte(e.Type))
	h.Write([]byte{0})
	h.Write([]byte(e.Subject))
	h.Write([]byte{0})
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(e.Time.UnixNano()))
	h.Write(ts[:])
	if len(e.Data) > 0 {
		var buf bytes.Buffer
		if !bytes.ContainsAny(e.Data, " \t\r\n") {
			h.Write(e.Data) // already compact
		} else if err := json.Compact(&buf, e.Data); err == nil {
			h.Write(buf.Bytes())
		} else {
			h.Write(e.Data)
		}
	}
	var out [16]byte
	copy(out[:], h.Sum(nil))
	return out
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
