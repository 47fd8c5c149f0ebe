package usage

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"testing"
	"time"
)

// oldHashes is the reference Key and ContentHash (the stored keys and hashes depend on them):
// the streaming sha256 of before hashes reused a buffer.
func oldHashes(e *Event) (Key, [16]byte) {
	h := sha256.New()
	h.Write([]byte(e.Source))
	h.Write([]byte{0})
	h.Write([]byte(e.ID))
	var k Key
	copy(k[:], h.Sum(nil))
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
			h.Write(e.Data)
		} else if err := json.Compact(&buf, e.Data); err == nil {
			h.Write(buf.Bytes())
		} else {
			h.Write(e.Data)
		}
	}
	var out [16]byte
	copy(out[:], h.Sum(nil))
	return k, out
}

func TestHashesUnchanged(t *testing.T) {
	at := time.Date(2026, 10, 5, 10, 0, 0, 123, time.UTC)
	events := []Event{
		{ID: "a", Source: "s", Type: "t", Subject: "c", Time: at},
		{ID: "a", Source: "s", Type: "t", Subject: "c", Time: at, Data: json.RawMessage(`{"tokens":12}`)},
		{ID: "a", Source: "s", Type: "t", Subject: "c", Time: at, Data: json.RawMessage("{ \"tokens\" :\n12,\t\"m\": \"a b\" }")},
		{ID: "a", Source: "s", Type: "t", Subject: "c", Time: at, Data: json.RawMessage(`{ "broken": `)},
		{ID: "ünï", Source: "😀", Type: "", Subject: "客户", Time: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC), Data: json.RawMessage(`[1, 2]`)},
		{ID: string(bytes.Repeat([]byte("i"), 256)), Source: string(bytes.Repeat([]byte("s"), 256)), Type: "t", Subject: "c", Time: at,
			Data: json.RawMessage(`{"big": "` + string(bytes.Repeat([]byte("x "), 5000)) + `"}`)},
	}
	var buf []byte
	for i := range events {
		e := &events[i]
		k, h := oldHashes(e)
		var gk Key
		var gh [16]byte
		gk, gh, buf = e.hashes(buf)
		if gk != k || gh != h || e.Key() != k || e.ContentHash() != h {
			t.Fatalf("event %d: hashes changed", i)
		}
	}
}
