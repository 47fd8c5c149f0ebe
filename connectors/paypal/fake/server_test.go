package fake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

type rig struct {
	t   *testing.T
	f   *Server
	url string
	now time.Time
}

func newRig(t *testing.T) *rig {
	r := &rig{t: t, now: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	r.f = New(Options{ClientID: "cid", Secret: "sec", WebhookID: "WH-T", TokenTTL: time.Hour, Now: func() time.Time { return r.now }})
	srv := httptest.NewServer(r.f.Handler())
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

func (r *rig) do(method, path, token, requestID, body string) (int, http.Header, map[string]any) {
	r.t.Helper()
	req, _ := http.NewRequest(method, r.url+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if requestID != "" {
		req.Header.Set("PayPal-Request-Id", requestID)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, resp.Header, out
}

func (r *rig) token() string {
	r.t.Helper()
	req, _ := http.NewRequest("POST", r.url+"/v1/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.SetBasicAuth("cid", "sec")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	if resp.StatusCode != 200 || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 {
		r.t.Fatalf("token: %d %+v", resp.StatusCode, tok)
	}
	return tok.AccessToken
}

func TestTokenLifecycle(t *testing.T) {
	r := newRig(t)
	req, _ := http.NewRequest("POST", r.url+"/v1/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.SetBasicAuth("cid", "wrong")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ := http.DefaultClient.Do(req)
	var e map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 401 || e["error"] != "invalid_client" {
		t.Fatalf("bad credentials: %d %v", resp.StatusCode, e)
	}
	tok := r.token()
	if st, _, _ := r.do("GET", "/v2/checkout/orders/NOPE", tok, "", ""); st != 404 {
		t.Fatalf("valid token: %d", st)
	}
	r.now = r.now.Add(time.Hour) // expired exactly at expires_in
	st, _, out := r.do("GET", "/v2/checkout/orders/NOPE", tok, "", "")
	if st != 401 || out["error"] != "invalid_token" || out["error_description"] != "Access Token not found in cache" {
		t.Fatalf("expired token: %d %v", st, out)
	}
}

func TestOrderWireBehaviour(t *testing.T) {
	r := newRig(t)
	tok := r.token()
	body := `{"intent":"CAPTURE","purchase_units":[{"invoice_id":"INV-1","custom_id":"k1","amount":{"currency_code":"USD","value":"10.00"}}]}`
	st, _, o := r.do("POST", "/v2/checkout/orders", tok, "req-1", body)
	if st != 201 || o["status"] != "CREATED" {
		t.Fatalf("create: %d %v", st, o)
	}
	id := o["id"].(string)
	// Same request id: the original answer, not a new order.
	st, _, again := r.do("POST", "/v2/checkout/orders", tok, "req-1", body)
	if st != 201 || again["id"] != id || len(r.f.orders) != 1 {
		t.Fatalf("replay: %d %v", st, again)
	}
	st, _, e := r.do("POST", "/v2/checkout/orders/"+id+"/capture", tok, "cap-1", "{}")
	if st != 422 || e["name"] != "UNPROCESSABLE_ENTITY" || e["debug_id"] == "" || issue(e) != "ORDER_NOT_APPROVED" {
		t.Fatalf("capture before approval: %d %v", st, e)
	}
	// Control API over HTTP: approve, then a PENDING capture completed later.
	if st, _, _ := r.do("POST", "/_control/orders/"+id+"/approve", "", "", ""); st != 204 {
		t.Fatalf("approve: %d", st)
	}
	if st, _, _ := r.do("POST", "/_control/pend-next", "", "", `{"reason":"PENDING_REVIEW"}`); st != 204 {
		t.Fatalf("pend-next: %d", st)
	}
	st, _, done := r.do("POST", "/v2/checkout/orders/"+id+"/capture", tok, "cap-2", "{}")
	caps := done["purchase_units"].([]any)[0].(map[string]any)["payments"].(map[string]any)["captures"].([]any)
	cp := caps[0].(map[string]any)
	if st != 201 || done["status"] != "COMPLETED" || cp["status"] != "PENDING" || cp["status_details"].(map[string]any)["reason"] != "PENDING_REVIEW" {
		t.Fatalf("pending capture: %d %v", st, done)
	}
	if st, _, _ := r.do("POST", "/_control/captures/"+cp["id"].(string)+"/complete", "", "", ""); st != 204 {
		t.Fatalf("complete: %d", st)
	}
	st, _, got := r.do("GET", "/v2/payments/captures/"+cp["id"].(string), tok, "", "")
	if st != 200 || got["status"] != "COMPLETED" || got["seller_receivable_breakdown"].(map[string]any)["paypal_fee"].(map[string]any)["value"] != "0.84" {
		t.Fatalf("completed capture: %d %v", st, got)
	}
	if st, _, e := r.do("POST", "/v2/checkout/orders/"+id+"/capture", tok, "cap-3", "{}"); st != 422 || issue(e) != "ORDER_ALREADY_CAPTURED" {
		t.Fatalf("double capture: %d %v", st, e)
	}
	if st, _, e := r.do("POST", "/v2/checkout/orders", tok, "req-2", body); st != 422 || issue(e) != "DUPLICATE_INVOICE_ID" {
		t.Fatalf("duplicate invoice: %d %v", st, e)
	}
	if st, _, e := r.do("POST", "/v2/payments/captures/"+cp["id"].(string)+"/refund", tok, "rf-1", `{"amount":{"currency_code":"USD","value":"10.01"}}`); st != 422 || issue(e) != "REFUND_AMOUNT_EXCEEDED" {
		t.Fatalf("refund too large: %d %v", st, e)
	}
	// Injected 429 with Retry-After, over the control API.
	if st, _, _ := r.do("POST", "/_control/faults", "", "", `{"path":"/v2/","status":429,"retry_after":2}`); st != 204 {
		t.Fatalf("fault: %d", st)
	}
	st, h, e := r.do("GET", "/v2/checkout/orders/"+id, tok, "", "")
	if st != 429 || h.Get("Retry-After") != "2" || e["name"] != "RATE_LIMIT_REACHED" {
		t.Fatalf("429: %d %v %v", st, h, e)
	}
	// Every request is in the log, with replays marked.
	log := r.f.Requests()
	if !log[1].Replayed || log[1].RequestID != "req-1" || log[0].Replayed {
		t.Fatalf("request log: %+v", log[:2])
	}
}

func TestTransactionSearchAndVerify(t *testing.T) {
	r := newRig(t)
	tok := r.token()
	st, _, e := r.do("GET", "/v1/reporting/transactions?start_date=2026-01-01T00:00:00Z&end_date=2026-03-01T00:00:00Z", tok, "", "")
	if st != 400 || issue(e) != "INVALID_DATE_RANGE" {
		t.Fatalf("range over 31 days: %d %v", st, e)
	}
	st, _, e = r.do("POST", "/v1/notifications/verify-webhook-signature", tok, "", `{"webhook_event":{}}`)
	if st != 400 || len(e["details"].([]any)) != 6 {
		t.Fatalf("verify with missing fields: %d %v", st, e)
	}
	ev := r.f.Event("PAYMENT.CAPTURE.COMPLETED", "capture", []byte(`{"id":"C1"}`), "x")
	h := r.f.Sign(ev)
	verify := func(webhookID string, event []byte) string {
		b, _ := json.Marshal(map[string]any{"auth_algo": h.AuthAlgo, "cert_url": h.CertURL, "transmission_id": h.TransmissionID,
			"transmission_sig": h.TransmissionSig, "transmission_time": h.TransmissionTime, "webhook_id": webhookID, "webhook_event": json.RawMessage(event)})
		st, _, out := r.do("POST", "/v1/notifications/verify-webhook-signature", tok, "", string(b))
		if st != 200 {
			t.Fatalf("verify: %d %v", st, out)
		}
		return out["verification_status"].(string)
	}
	if got := verify("WH-T", ev); got != "SUCCESS" {
		t.Fatalf("genuine: %s", got)
	}
	if got := verify("WH-OTHER", ev); got != "FAILURE" {
		t.Fatalf("other webhook id: %s", got)
	}
	if got := verify("WH-T", []byte(strings.Replace(string(ev), "C1", "C2", 1))); got != "FAILURE" {
		t.Fatalf("tampered: %s", got)
	}
}

func issue(e map[string]any) string {
	d, _ := e["details"].([]any)
	if len(d) == 0 {
		return ""
	}
	s, _ := d[0].(map[string]any)["issue"].(string)
	return s
}
