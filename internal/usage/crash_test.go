package usage_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/revhub/revhub/internal/dbtest"
)

// startIngestd runs the usage API as a separate process (testdata/ingestd) and returns its address.
func startIngestd(t *testing.T, bin, url string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "-database-url", url, "-listen", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("ingestd did not start: %v: %s", err, stderr.String())
	}
	return cmd, "http://" + strings.TrimSpace(strings.TrimPrefix(line, "listening "))
}

type crashBatch struct {
	name   string
	body   []byte
	tokens int
}

func makeCrashBatch(worker, n int) crashBatch {
	b := crashBatch{name: fmt.Sprintf("w%d-b%d", worker, n)}
	var buf bytes.Buffer
	buf.WriteByte('[')
	for k := range 1000 {
		if k > 0 {
			buf.WriteByte(',')
		}
		v := (worker*7+n*13+k)%97 + 1
		b.tokens += v
		fmt.Fprintf(&buf, `{"specversion":"1.0","id":"%s-e%d","source":"crash","type":"llm.tokens","subject":"cus_%d","time":"2026-10-05T%02d:00:00Z","data":{"tokens":%d,"model":"m%d"}}`,
			b.name, k, k%20, k%24, v, k%3)
	}
	buf.WriteByte(']')
	b.body = buf.Bytes()
	return b
}

func post(url string, body []byte) (int, error) {
	resp, err := http.Post(url+"/v1/events", "application/cloudevents-batch+json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestCrashDuringLoadLosesNothingAcknowledged kills the API process with SIGKILL in the middle of a
// load. After a restart every event of a batch that got a 202 is stored exactly once, batches in
// doubt are stored whole or not at all, and resending them completes the data without doubles.
func TestCrashDuringLoadLosesNothingAcknowledged(t *testing.T) {
	d := dbtest.New(t)
	bin := filepath.Join(t.TempDir(), "ingestd")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/ingestd").CombinedOutput(); err != nil {
		t.Fatalf("build ingestd: %v\n%s", err, out)
	}
	proc, url := startIngestd(t, bin, d.URL)
	resp, err := http.Post(url+"/v1/meters", "application/json", strings.NewReader(
		`{"slug":"tokens","event_type":"llm.tokens","aggregation":"SUM","value_property":"$.tokens","group_by":{"model":"$.model"}}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create meter: %v %v", resp, err)
	}
	resp.Body.Close()

	var (
		mu      sync.Mutex
		acked   []crashBatch
		inDoubt []crashBatch
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				b := makeCrashBatch(w, n)
				code, err := post(url, b.body)
				mu.Lock()
				if err == nil && code == http.StatusAccepted {
					acked = append(acked, b)
				} else {
					inDoubt = append(inDoubt, b) // no 202 seen: the client must resend it
				}
				mu.Unlock()
				if err != nil {
					return // the server is gone
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 24 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	_ = proc.Wait()
	if len(acked) < 24 {
		t.Fatalf("only %d batches acknowledged before the deadline", len(acked))
	}
	t.Logf("killed with %d batches acknowledged and %d in doubt", len(acked), len(inDoubt))

	ctx := context.Background()
	perBatch := map[string]int{}
	rows, err := d.Pool.Query(ctx, `SELECT split_part(id, '-e', 1), count(*) FROM usage_events GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		perBatch[name] = n
	}
	rows.Close()
	for _, b := range acked {
		if perBatch[b.name] != 1000 {
			t.Errorf("acknowledged batch %s: %d of 1000 events stored", b.name, perBatch[b.name])
		}
	}
	for _, b := range inDoubt {
		if n := perBatch[b.name]; n != 0 && n != 1000 {
			t.Errorf("batch %s in doubt is partly stored: %d of 1000", b.name, n)
		}
	}
	if len(perBatch) > len(acked)+len(inDoubt) {
		t.Errorf("%d batches stored, only %d sent", len(perBatch), len(acked)+len(inDoubt))
	}

	// After a restart the client resends what it was unsure of: each event ends up stored once.
	_, url = startIngestd(t, bin, d.URL)
	for _, b := range inDoubt {
		if code, err := post(url, b.body); err != nil || code != http.StatusAccepted {
			t.Fatalf("resend %s: %d %v", b.name, code, err)
		}
	}
	want := 0
	for _, b := range append(acked, inDoubt...) {
		want += b.tokens
	}
	var events, keys, tokens int
	if err := d.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM usage_events), (SELECT count(DISTINCT key) FROM usage_events),
		(SELECT sum(sum)::int FROM usage_rollups WHERE meter = 'tokens')`).Scan(&events, &keys, &tokens); err != nil {
		t.Fatal(err)
	}
	if total := 1000 * (len(acked) + len(inDoubt)); events != total || keys != total || tokens != want {
		t.Fatalf("after resend: %d events (%d distinct), tokens %d; want %d events, tokens %d", events, keys, tokens, total, want)
	}
}
