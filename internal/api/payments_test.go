package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	stripe "github.com/stripe/stripe-go/v82"

	"github.com/revhub/revhub/connectors/provider"
	rstripe "github.com/revhub/revhub/connectors/stripe"
	stfake "github.com/revhub/revhub/connectors/stripe/fake"
	"github.com/revhub/revhub/internal/api"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/internal/payment/webhook"
)

func paymentRoute(t *testing.T, routes []api.Route, method, path string) http.HandlerFunc {
	t.Helper()
	for _, r := range routes {
		if r.Method == method && r.Path == path {
			return r.Handler
		}
	}
	t.Fatalf("no route %s %s", method, path)
	return nil
}

func callPayment(h http.HandlerFunc, method, target, contentType string, body []byte, header http.Header) (int, map[string]any) {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func TestPaymentRoutes(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	svc := payment.NewService(db.Pool, provider.NewRegistry(), nil)
	ref, _ := payment.Reference("INV-1")
	if err := svc.RegisterReceivable(ctx, payment.Receivable{InvoiceID: "INV-1", CustomerID: "c1", Reference: ref, Currency: "USD", Amount: decimal.RequireFromString("50.00")}); err != nil {
		t.Fatal(err)
	}
	ver, _ := rstripe.NewVerifier("whsec_api", 0)
	routes := api.PaymentRoutes(api.PaymentDeps{Service: svc, Stripe: webhook.Stripe{Verifier: ver}})

	// Bank statement: one partial payment, one bad row rejects the whole file with details.
	imp := paymentRoute(t, routes, "POST", "/v1/bank/statements")
	bad := "account,transaction_id,booked_on,amount,currency,reference\nA,T1,2026-11-02,x,USD," + ref + "\nA,T2,2026-11-31,1.00,USD,\n"
	status, out := callPayment(imp, "POST", "/v1/bank/statements", "text/csv", []byte(bad), nil)
	details, _ := out["error"].(map[string]any)["details"].([]any)
	if status != 400 || len(details) != 2 || !strings.Contains(details[0].(map[string]any)["field"].(string), "row 2") {
		t.Fatalf("bad statement: %d %v", status, out)
	}
	good := "account,transaction_id,booked_on,amount,currency,reference\nA,T1,2026-11-02,20.00,USD,Invoice " + ref + "\n"
	status, out = callPayment(imp, "POST", "/v1/bank/statements", "text/csv", []byte(good), nil)
	lines, _ := out["lines"].([]any)
	if status != 200 || len(lines) != 1 || lines[0].(map[string]any)["outcome"] != payment.MatchPartial || lines[0].(map[string]any)["remaining"] != "30" {
		t.Fatalf("statement: %d %v", status, out)
	}
	if status, _ := callPayment(imp, "POST", "/v1/bank/statements", "application/json", []byte(good), nil); status != http.StatusUnsupportedMediaType {
		t.Fatalf("wrong content type: %d", status)
	}

	// Stripe webhook: a signed event for an unknown charge is refused and recorded; a bad signature too.
	wh := paymentRoute(t, routes, "POST", "/v1/webhooks/stripe")
	ev := []byte(`{"id":"evt_api_1","object":"event","api_version":"` + apiVersion() + `","created":1764000000,"type":"payment_intent.succeeded",
		"data":{"object":{"id":"pi_api","object":"payment_intent","amount":5000,"currency":"usd","created":1764000000,"status":"succeeded",
		"metadata":{"invoice_id":"INV-1","revhub_key":"invoice:INV-1:charge:1"}}}}`)
	h := http.Header{"Stripe-Signature": {stfake.Sign(ev, "whsec_api", time.Now())}}
	status, out = callPayment(wh, "POST", "/v1/webhooks/stripe", "application/json", ev, h)
	if status != 400 || out["error"].(map[string]any)["code"] != "webhook_unknown_payment" {
		t.Fatalf("unknown payment: %d %v", status, out)
	}
	h = http.Header{"Stripe-Signature": {stfake.Sign(ev, "whsec_wrong", time.Now())}}
	if status, out = callPayment(wh, "POST", "/v1/webhooks/stripe", "application/json", ev, h); status != 400 || out["error"].(map[string]any)["code"] != "webhook_bad_signature" {
		t.Fatalf("bad signature: %d %v", status, out)
	}
	// Once the charge is recorded, the same event applies once and then is a duplicate.
	if _, _, err := payment.InsertPending(ctx, db.Pool, payment.Payment{IdempotencyKey: "invoice:INV-1:charge:1", Kind: payment.KindCharge,
		Provider: provider.Stripe, InvoiceID: "INV-1", Attempt: 1, Amount: decimal.RequireFromString("50.00"), Currency: "USD"}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"applied", "duplicate", "duplicate"} {
		h = http.Header{"Stripe-Signature": {stfake.Sign(ev, "whsec_api", time.Now())}}
		if status, out = callPayment(wh, "POST", "/v1/webhooks/stripe", "application/json", ev, h); status != 200 || out["outcome"] != want {
			t.Fatalf("delivery %d: %d %v", i, status, out)
		}
	}
	// PayPal is not configured here: 503.
	if status, _ := callPayment(paymentRoute(t, routes, "POST", "/v1/webhooks/paypal"), "POST", "/v1/webhooks/paypal", "application/json", ev, nil); status != 503 {
		t.Fatalf("unconfigured provider: %d", status)
	}
	list := paymentRoute(t, routes, "GET", "/v1/payments")
	status, out = callPayment(list, "GET", "/v1/payments?invoice_id=INV-1", "", nil, nil)
	ps, _ := out["payments"].([]any)
	if status != 200 || len(ps) != 2 {
		t.Fatalf("list: %d %v", status, out)
	}
	if status, _ := callPayment(list, "GET", "/v1/payments", "", nil, nil); status != 400 {
		t.Fatalf("list without invoice_id: %d", status)
	}
}

func apiVersion() string { return stripe.APIVersion }
