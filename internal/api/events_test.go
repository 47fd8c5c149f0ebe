package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revhub/revhub/internal/api"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/usage"
)

// usageServer serves the usage routes without the auth middleware (the handlers do not depend on it).
func usageServer(t testing.TB, opts usage.IngesterOptions) (*httptest.Server, *usage.Ingester) {
	t.Helper()
	d := dbtest.New(t)
	in, err := usage.NewIngester(context.Background(), d.Pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	mux := http.NewServeMux()
	for _, r := range api.UsageRoutes(in, nil) {
		limit := r.MaxBody
		if limit == 0 {
			limit = api.DefaultMaxBody
		}
		h := r.Handler
		mux.HandleFunc(r.Method+" "+r.Path, func(w http.ResponseWriter, req *http.Request) {
			req.Body = http.MaxBytesReader(w, req.Body, limit)
			h(w, req)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	call(t, srv, "POST", "/v1/meters", "application/json", `{"slug":"tokens","event_type":"llm.tokens","aggregation":"SUM","value_property":"$.tokens","group_by":{"model":"$.model"}}`, 201)
	return srv, in
}

func call(t testing.TB, srv *httptest.Server, method, path, ctype, body string, want int) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: response %q: %v", method, path, b, err)
	}
	out["_retry_after"] = resp.Header.Get("Retry-After")
	return out
}

func cloudEvent(id, subject string, tokens int, model string) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"gw","type":"llm.tokens","subject":%q,"time":"2026-10-05T10:00:00Z","data":{"tokens":%d,"model":%q}}`, id, subject, tokens, model)
}

const batchType = "application/cloudevents-batch+json"

func TestPostEventsBatchDuplicatesAndConflicts(t *testing.T) {
	srv, _ := usageServer(t, usage.IngesterOptions{})
	batch := "[" + cloudEvent("a", "cus_1", 10, "gpt") + "," + cloudEvent("b", "cus_1", 5, "gpt") + "," + cloudEvent("a", "cus_1", 10, "gpt") + "]"
	res := call(t, srv, "POST", "/v1/events", batchType, batch, 202)
	if res["stored"].(float64) != 2 || fmt.Sprint(res["duplicates"]) != "[2]" {
		t.Fatalf("first: %v", res)
	}
	res = call(t, srv, "POST", "/v1/events", batchType, batch, 202) // the client's retry
	if res["stored"].(float64) != 0 || fmt.Sprint(res["duplicates"]) != "[0 1 2]" {
		t.Fatalf("retry: %v", res)
	}
	res = call(t, srv, "POST", "/v1/events", "application/cloudevents+json", cloudEvent("b", "cus_1", 6, "gpt"), 202)
	if fmt.Sprint(res["conflicts"]) != "[0]" {
		t.Fatalf("conflict: %v", res)
	}
	q := call(t, srv, "GET", "/v1/meters/tokens/query?subject=cus_1&from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z&group_by=model", "", "", 200)
	data := q["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["value"] != "15" || data[0].(map[string]any)["groups"].(map[string]any)["model"] != "gpt" {
		t.Fatalf("query: %v", q)
	}
}

func TestPostEventsInvalidBatchNamesEachEvent(t *testing.T) {
	srv, in := usageServer(t, usage.IngesterOptions{})
	events := make([]string, 1000)
	for i := range events {
		events[i] = cloudEvent(fmt.Sprintf("e%d", i), "cus_1", i, "gpt")
	}
	events[3] = `{"specversion":"1.0","id":"e3","source":"gw","type":"llm.tokens","subject":"cus_1","time":"yesterday","data":{"tokens":1}}`
	events[998] = `{"specversion":"0.3","id":42,"source":"gw","type":"llm.tokens","subject":"cus_1","time":"2026-10-05T10:00:00Z"}`
	res := call(t, srv, "POST", "/v1/events", batchType, "["+strings.Join(events, ",")+"]", 400)
	e := res["error"].(map[string]any)
	if e["code"] != "invalid_events" || !strings.Contains(e["reason"].(string), "2 of 1000 events are invalid") {
		t.Fatalf("error %v", e)
	}
	var got []string
	for _, d := range e["details"].([]any) {
		d := d.(map[string]any)
		got = append(got, fmt.Sprintf("%v:%v", d["index"], d["field"]))
	}
	if !slices.Equal(got, []string{"3:time", "998:id"}) {
		t.Fatalf("details %v", got)
	}
	events[998] = `{"specversion":"0.3","id":"e998","source":"gw","type":"llm.tokens","subject":"cus_1","time":"2026-10-05T10:00:00Z"}`
	res = call(t, srv, "POST", "/v1/events", batchType, "["+strings.Join(events, ",")+"]", 400)
	got = nil
	for _, d := range res["error"].(map[string]any)["details"].([]any) {
		d := d.(map[string]any)
		got = append(got, fmt.Sprintf("%v:%v", d["index"], d["field"]))
	}
	if !slices.Equal(got, []string{"3:time", "998:specversion", "998:data.tokens"}) {
		t.Fatalf("details %v", got)
	}
	var n int
	if err := in.Pool().QueryRow(context.Background(), `SELECT count(*) FROM usage_event_keys`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("stored %d events from refused batches (%v)", n, err)
	}
	call(t, srv, "POST", "/v1/events", "text/csv", "a,b", 415)
	res = call(t, srv, "POST", "/v1/events", batchType, "[{", 400)
	if res["error"].(map[string]any)["field"] != "body" {
		t.Fatalf("syntax error: %v", res)
	}
	res = call(t, srv, "GET", "/v1/meters/tokens/query?from=2026-10-01T00:30:00Z&to=2026-10-01T00:00:00Z", "", "", 400)
	if fmt.Sprint(res["error"].(map[string]any)["details"]) == "" {
		t.Fatalf("range problems: %v", res)
	}
}

func TestPostEventsBackPressure(t *testing.T) {
	srv, in := usageServer(t, usage.IngesterOptions{MaxInFlight: 1, QueueWait: 10 * time.Millisecond})
	release, err := in.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res := call(t, srv, "POST", "/v1/events", batchType, "["+cloudEvent("a", "cus_1", 1, "gpt")+"]", 503)
	if res["_retry_after"] != "1" || res["error"].(map[string]any)["code"] != "overloaded" {
		t.Fatalf("busy: %v", res)
	}
	release()
	call(t, srv, "POST", "/v1/events", batchType, "["+cloudEvent("a", "cus_1", 1, "gpt")+"]", 202)
}

func TestMetersAPI(t *testing.T) {
	srv, _ := usageServer(t, usage.IngesterOptions{})
	def := `{"slug":"tokens","event_type":"llm.tokens","aggregation":"SUM","value_property":"$.tokens","group_by":{"model":"$.model"}}`
	call(t, srv, "POST", "/v1/meters", "application/json", def, 200) // already there: identical is fine
	res := call(t, srv, "POST", "/v1/meters", "application/json", `{"slug":"tokens","event_type":"llm.tokens","aggregation":"COUNT"}`, 409)
	if res["error"].(map[string]any)["field"] != "slug" {
		t.Fatalf("conflict: %v", res)
	}
	res = call(t, srv, "POST", "/v1/meters", "application/json", `{"slug":"x","event_type":"","aggregation":"AVG"}`, 400)
	if len(res["error"].(map[string]any)["details"].([]any)) != 2 {
		t.Fatalf("invalid meter: %v", res)
	}
	call(t, srv, "GET", "/v1/meters/tokens", "", "", 200)
	call(t, srv, "GET", "/v1/meters/nope", "", "", 404)
	if list := call(t, srv, "GET", "/v1/meters", "", "", 200); len(list["data"].([]any)) != 1 {
		t.Fatalf("list: %v", list)
	}
	res = call(t, srv, "GET", "/v1/meters/tokens/query?from=2026-10-01T00:30:00Z&to=nope&window=week&group_by=colour", "", "", 400)
	var fields []string
	for _, d := range res["error"].(map[string]any)["details"].([]any) {
		fields = append(fields, d.(map[string]any)["field"].(string))
	}
	if !slices.Equal(fields, []string{"to", "window", "group_by"}) {
		t.Fatalf("query problems %v (%v)", fields, res)
	}
}

// TestPostEventsBodyLength covers bodies with and without an announced length (chunked).
func TestPostEventsBodyLength(t *testing.T) {
	srv, _ := usageServer(t, usage.IngesterOptions{})
	events := make([]string, 300)
	for i := range events {
		events[i] = cloudEvent(fmt.Sprintf("e%d", i), "cus_1", i, "gpt")
	}
	batch := "[" + strings.Join(events, ",") + "]"
	for _, chunked := range []bool{false, true} {
		var body io.Reader = strings.NewReader(batch)
		if chunked {
			body = io.MultiReader(strings.NewReader(batch)) // no length known: sent chunked
		}
		req, err := http.NewRequest("POST", srv.URL+"/v1/events", body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", batchType)
		if got := req.ContentLength; (got == 0) != chunked {
			t.Fatalf("chunked %v: ContentLength %d", chunked, got)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var res map[string]any
		err = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusAccepted || res["events"].(float64) != 300 {
			t.Fatalf("chunked %v: status %d, %v (%v)", chunked, resp.StatusCode, res, err)
		}
	}
}
