package usage_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revhub/revhub/internal/usage"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func jsonlEvents(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"specversion":"1.0","id":"imp-%d","source":"backfill","type":"llm.tokens","subject":"cus_%d","time":"%s","data":{"tokens":%d,"model":"gpt"}}`+"\n",
			i, i%3, t0.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), i+1)
		if i == 4 {
			b.WriteString("\n") // blank lines are skipped
		}
	}
	return b.String()
}

func TestImportResumesAfterInterruptionWithoutDuplicates(t *testing.T) {
	in, d := newIngester(t)
	path := writeFile(t, "events.jsonl", jsonlEvents(25))
	ctx, cancel := context.WithCancel(context.Background())
	var seen []usage.ImportProgress
	_, err := usage.Import(ctx, in, path, usage.ImportOptions{BatchSize: 10, Progress: func(p usage.ImportProgress) {
		seen = append(seen, p)
		cancel() // the process "dies" right after its first committed batch
	}})
	if !errors.Is(err, context.Canceled) || len(seen) != 1 || seen[0].Stored != 10 {
		t.Fatalf("interrupted run: %v, progress %+v", err, seen)
	}
	prog, err := usage.Import(context.Background(), in, path, usage.ImportOptions{BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !prog.Resumed || prog.Events != 15 || prog.Stored != 15 || prog.Duplicates != 0 || prog.Lines != 26 || prog.Bytes != prog.TotalBytes {
		t.Fatalf("resumed run: %+v", prog)
	}
	// Done already: a third run reads nothing.
	if prog, err = usage.Import(context.Background(), in, path, usage.ImportOptions{BatchSize: 10}); err != nil || prog.Events != 0 {
		t.Fatalf("completed import again: %+v, %v", prog, err)
	}
	// Without the checkpoint (restart), every event is a duplicate: nothing is counted twice.
	if prog, err = usage.Import(context.Background(), in, path, usage.ImportOptions{BatchSize: 10, Restart: true}); err != nil || prog.Stored != 0 || prog.Duplicates != 25 {
		t.Fatalf("restarted import: %+v, %v", prog, err)
	}
	if n := count(t, d, `SELECT count(*) FROM usage_events`); n != 25 {
		t.Fatalf("%d events stored, want 25", n)
	}
	if n := count(t, d, `SELECT sum(sum)::int FROM usage_rollups WHERE meter = 'tokens'`); n != 25*26/2 {
		t.Fatalf("tokens %d, want %d", n, 25*26/2)
	}
	// The file's start changed: the checkpoint no longer applies.
	if err := os.WriteFile(path, []byte(strings.Replace(jsonlEvents(25), "imp-0", "imp-X", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := usage.Import(context.Background(), in, path, usage.ImportOptions{}); !errors.Is(err, usage.ErrFileChanged) {
		t.Fatalf("changed file: %v, want ErrFileChanged", err)
	}
}

func TestImportCSVReportsLinesAndFields(t *testing.T) {
	in, d := newIngester(t)
	good := "id,source,type,subject,time,data\n" +
		"c1,crm,llm.tokens,cus_1,2026-10-05T10:00:00Z,\"{\"\"tokens\"\": 5, \"\"model\"\": \"\"gpt\"\"}\"\n" +
		"c2,crm,llm.tokens,cus_1,2026-10-05T11:00:00Z,\"{\"\"tokens\"\": 7}\"\n"
	prog, err := usage.Import(context.Background(), in, writeFile(t, "good.csv", good), usage.ImportOptions{})
	if err != nil || prog.Stored != 2 || prog.Lines != 3 {
		t.Fatalf("csv import: %+v, %v", prog, err)
	}
	bad := good + "c3,crm,llm.tokens,,2026-10-05T11:00:00Z,{}\n" + "c4,crm,llm.tokens,cus_1,2026-10-05T11:00:00Z,\"{\"\"tokens\"\": \"\"x\"\"}\"\n"
	_, err = usage.Import(context.Background(), in, writeFile(t, "bad.csv", bad), usage.ImportOptions{})
	var ie *usage.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("bad csv: %v", err)
	}
	if got := ie.Error(); got != `line 4: subject: is required; line 5: data.tokens: must be a number, got "x"` {
		t.Fatalf("bad csv problems: %s", got)
	}
	if n := count(t, d, `SELECT count(*) FROM usage_events`); n != 2 {
		t.Fatalf("%d events stored, want 2", n)
	}
	if _, err := usage.Import(context.Background(), in, writeFile(t, "cols.csv", "id,source,kind\n"), usage.ImportOptions{}); err == nil || !strings.Contains(err.Error(), `unknown column "kind"`) {
		t.Fatalf("bad header: %v", err)
	}
}
