package fake

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
)

var mockURL string

func TestMain(m *testing.M) {
	mock, err := StartMock(context.Background(), MockOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "stripe-mock is required:", err)
		os.Exit(1)
	}
	mockURL = mock.URL
	code := m.Run()
	_ = mock.Stop()
	os.Exit(code)
}

func call(t *testing.T, base, method, path, key string, form url.Values) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(form.Encode()))
	req.SetBasicAuth("sk_test_fake", "")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, resp.Header, out
}

func TestLayer(t *testing.T) {
	s := New(Options{MockURL: mockURL, WebhookSecret: "whsec_x"})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	pi := func(amount string, inv string) url.Values {
		return url.Values{"amount": {amount}, "currency": {"usd"}, "customer": {"cus_1"}, "payment_method": {"pm_card_visa"},
			"confirm": {"true"}, "metadata[invoice_id]": {inv}}
	}
	// stripe-mock's schema validation still applies: an unknown parameter is refused and not saved.
	bad := pi("100", "i0")
	bad.Set("no_such_param", "1")
	if st, _, out := call(t, srv.URL, "POST", "/v1/payment_intents", "k0", bad); st != 400 || out["error"] == nil {
		t.Fatalf("unknown parameter: %d %v", st, out)
	}
	st, _, first := call(t, srv.URL, "POST", "/v1/payment_intents", "k0", pi("100", "i0"))
	if st != 200 || first["status"] != "succeeded" || first["metadata"].(map[string]any)["invoice_id"] != "i0" {
		t.Fatalf("create after a refused attempt with the same key: %d %v", st, first)
	}
	st, h, again := call(t, srv.URL, "POST", "/v1/payment_intents", "k0", pi("100", "i0"))
	if st != 200 || again["id"] != first["id"] || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %v", st, again)
	}
	st, _, conflict := call(t, srv.URL, "POST", "/v1/payment_intents", "k0", pi("200", "i0"))
	if st != 400 || conflict["error"].(map[string]any)["type"] != "idempotency_error" {
		t.Fatalf("same key, other params: %d %v", st, conflict)
	}
	for i := range 3 {
		call(t, srv.URL, "POST", "/v1/payment_intents", fmt.Sprintf("k%d", i+1), pi("300", fmt.Sprintf("i%d", i+1)))
	}
	// List pages newest first.
	_, _, page := call(t, srv.URL, "GET", "/v1/payment_intents?limit=2", "", nil)
	data := page["data"].([]any)
	if len(data) != 2 || page["has_more"] != true || data[0].(map[string]any)["metadata"].(map[string]any)["invoice_id"] != "i3" {
		t.Fatalf("page 1: %v", page)
	}
	_, _, page2 := call(t, srv.URL, "GET", "/v1/payment_intents?limit=2&starting_after="+data[1].(map[string]any)["id"].(string), "", nil)
	if d := page2["data"].([]any); len(d) != 2 || page2["has_more"] != false {
		t.Fatalf("page 2: %v", page2)
	}
	_, _, found := call(t, srv.URL, "GET", "/v1/payment_intents/search?query="+url.QueryEscape("metadata['invoice_id']:'i2' AND status:'succeeded'"), "", nil)
	if d := found["data"].([]any); len(d) != 1 || found["object"] != "search_result" {
		t.Fatalf("search: %v", found)
	}
	if st, _, _ := call(t, srv.URL, "GET", "/v1/payment_intents/search?query="+url.QueryEscape("amount>100"), "", nil); st != 400 {
		t.Fatalf("unsupported search: %d", st)
	}
	if st, _, e := call(t, srv.URL, "GET", "/v1/payment_intents/pi_missing", "", nil); st != 404 || e["error"].(map[string]any)["code"] != "resource_missing" {
		t.Fatalf("missing: %d %v", st, e)
	}
	// Control API: a decline, then a fault.
	req, _ := http.NewRequest("POST", srv.URL+"/_control/declines", strings.NewReader(`{"decline_code":"expired_card"}`))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 {
		t.Fatalf("control decline: %v %v", resp, err)
	}
	st, _, dec := call(t, srv.URL, "POST", "/v1/payment_intents", "k9", pi("500", "i9"))
	e := dec["error"].(map[string]any)
	if st != 402 || e["type"] != "card_error" || e["decline_code"] != "expired_card" || e["payment_intent"].(map[string]any)["status"] != "requires_payment_method" {
		t.Fatalf("decline: %d %v", st, dec)
	}
	req, _ = http.NewRequest("POST", srv.URL+"/_control/faults", strings.NewReader(`{"path":"/v1/customers","status":503}`))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 {
		t.Fatalf("control fault: %v %v", resp, err)
	}
	if st, _, _ := call(t, srv.URL, "GET", "/v1/customers", "", nil); st != 503 {
		t.Fatalf("fault: %d", st)
	}
	if st, _, _ := call(t, srv.URL, "GET", "/v1/customers", "", nil); st != 200 {
		t.Fatalf("after the fault: %d", st)
	}
	resp, err := http.Get(srv.URL + "/_control/requests")
	if err != nil {
		t.Fatal(err)
	}
	var logged []Request
	_ = json.NewDecoder(resp.Body).Decode(&logged)
	resp.Body.Close()
	if len(logged) != len(s.Requests()) || len(logged) < 12 {
		t.Fatalf("request log over HTTP: %d entries", len(logged))
	}
}
