package usage

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzImportSource feeds arbitrary files to the CSV and JSONL import readers: they must never
// panic or loop, every problem names a field and a reason, line numbers only grow, and the JSONL
// resume offset never passes the end of the file.
func FuzzImportSource(f *testing.F) {
	f.Add([]byte("id,source,type,subject,time,data\n1,s,llm.tokens,c,2026-10-05T10:00:00Z,\"{\"\"usage\"\":{\"\"tokens\"\":3}}\"\n"), true)
	f.Add([]byte("\ufeffid,source,type,subject,time\n1,s,t,c,not-a-time\n2,s,t\n"), true)
	f.Add([]byte("id,source,type,subject,time,data\n\"unterminated,s,t,c,2026-10-05T10:00:00Z,{}\n"), true)
	f.Add([]byte("id,source,nope\n"), true)
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"s","type":"t","subject":"c","time":"2026-10-05T10:00:00Z","data":{"n":1}}`+"\n\n{\"id\":7}\n[1,2]\n{bad\n"), false)
	f.Add([]byte("\n\n   \n"), false)
	f.Fuzz(func(t *testing.T, data []byte, csv bool) {
		path := filepath.Join(t.TempDir(), "in")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		file, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		format := "jsonl"
		if csv {
			format = "csv"
		}
		src, err := newImportSource(file, format, 0, 0)
		if err != nil {
			if !csv {
				t.Fatalf("jsonl source refused at open: %v", err)
			}
			return
		}
		var last int64
		for i := 0; ; i++ {
			if i > len(data)+1 {
				t.Fatalf("%d events from %d bytes: the reader does not advance", i, len(data))
			}
			_, ln, probs, err := src.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				if !csv {
					t.Fatalf("jsonl read error: %v", err)
				}
				return // a CSV syntax error stops the import with its line
			}
			if ln < last {
				t.Fatalf("line %d after line %d", ln, last)
			}
			last = ln
			for _, p := range probs {
				if p.Field == "" || p.Reason == "" {
					t.Fatalf("problem without field or reason: %+v", p)
				}
			}
			if !csv && src.offset() > int64(len(data)) {
				t.Fatalf("offset %d past the end (%d bytes)", src.offset(), len(data))
			}
		}
	})
}
