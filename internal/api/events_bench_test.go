package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/revhub/revhub/internal/usage"
)

// BenchmarkPostEvents posts batches of 5,000 new events through the usage handler (PostgreSQL on
// this machine): reading the body, decoding, checks, ingestion and the answer.
func BenchmarkPostEvents(b *testing.B) {
	const n = 5000
	srv, _ := usageServer(b, usage.IngesterOptions{})
	body := func(round int) []byte {
		out := []byte("[")
		for i := range n {
			if i > 0 {
				out = append(out, ',')
			}
			out = fmt.Appendf(out, `{"specversion":"1.0","id":"r%d-e%05d","source":"gateway-eu-1","type":"llm.tokens","subject":"cus_%04d","time":"2026-10-05T10:%02d:%02dZ","datacontenttype":"application/json","data":{"tokens":%d,"model":"gpt","region":"eu"}}`, round, i, i%1000, i%60, i%60, i)
		}
		return append(out, ']')
	}
	round := 0
	for b.Loop() {
		b.StopTimer()
		round++
		req, err := http.NewRequest("POST", srv.URL+"/v1/events", bytes.NewReader(body(round)))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", batchType)
		b.StartTimer()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			b.Fatalf("status %d: %s", resp.StatusCode, answer)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
}
