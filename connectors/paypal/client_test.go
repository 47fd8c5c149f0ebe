package paypal_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/paypal"
	"github.com/revhub/revhub/connectors/paypal/fake"
	"github.com/revhub/revhub/connectors/provider"
)

func setup(t *testing.T, retryMax int) (*fake.Server, *paypal.Client, *paypal.Provider) {
	t.Helper()
	f := fake.New(fake.Options{ClientID: "client-1", Secret: "s3cret", WebhookID: "WH-1"})
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	c, err := paypal.New(paypal.Config{BaseURL: srv.URL, ClientID: "client-1", Secret: "s3cret", WebhookID: "WH-1",
		RetryMax: retryMax, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return f, c, paypal.NewProvider(c)
}

func req(inv string, attempt int, amount string) provider.ChargeRequest {
	return provider.ChargeRequest{InvoiceID: inv, Attempt: attempt, IdempotencyKey: provider.ChargeKey(inv, attempt),
		Customer: provider.Customer{ID: "cust-1", PaymentMethod: "8kk8451t"}, Amount: decimal.RequireFromString(amount), Currency: "EUR"}
}

func TestChargeRetriedSameRequestIDCapturesOnce(t *testing.T) {
	f, _, p := setup(t, 4)
	ctx := context.Background()
	var first provider.Charge
	for i := range 3 {
		ch, err := p.Charge(ctx, req("inv-1", 1, "250.00"))
		if err != nil {
			t.Fatalf("try %d: %v", i, err)
		}
		if ch.Status != provider.StatusSucceeded || !ch.Amount.Equal(decimal.RequireFromString("250")) || ch.Currency != "EUR" ||
			ch.IdempotencyKey != "invoice:inv-1:charge:1" || ch.InvoiceID != "inv-1" || ch.CapturedAt.IsZero() {
			t.Fatalf("try %d: %+v", i, ch)
		}
		if i == 0 {
			first = ch
		} else if ch.ProviderID != first.ProviderID {
			t.Fatalf("try %d captured again: %s vs %s", i, ch.ProviderID, first.ProviderID)
		}
	}
	if n := f.Executed("POST", "/v2/checkout/orders"); n != 1 || len(f.Captures()) != 1 {
		t.Fatalf("executed order creates %d, captures %d; want 1, 1", n, len(f.Captures()))
	}
	for _, r := range f.Requests() {
		if r.Method == "POST" && r.RequestID != "invoice:inv-1:charge:1" {
			t.Fatalf("PayPal-Request-Id = %q", r.RequestID)
		}
	}
}

func TestTokenCachedAndRenewedOnInvalidToken(t *testing.T) {
	f, c, p := setup(t, 4)
	ctx := context.Background()
	if _, err := p.Charge(ctx, req("inv-2", 1, "1.00")); err != nil {
		t.Fatal(err)
	}
	f.ExpireTokens()
	ch, err := p.Charge(ctx, req("inv-3", 1, "2.00"))
	if err != nil || ch.Status != provider.StatusSucceeded {
		t.Fatalf("after token expiry: %+v %v", ch, err)
	}
	var statuses []int
	for _, r := range f.Requests() {
		statuses = append(statuses, r.Status)
	}
	if len(statuses) != 3 || statuses[0] != 201 || statuses[1] != 401 || statuses[2] != 201 {
		t.Fatalf("statuses %v, want [201 401 201]", statuses)
	}
	// Bad credentials: the OAuth error shape.
	bad, _ := paypal.New(paypal.Config{BaseURL: c.BaseURL(), ClientID: "client-1", Secret: "wrong"})
	_, err = bad.GetOrder(ctx, "X")
	var pe *paypal.Error
	if !errors.As(err, &pe) || pe.Status != 401 || pe.OAuthError != "invalid_client" || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad credentials: %v", err)
	}
}

func TestRateLimitAndServerErrorsAreRetried(t *testing.T) {
	f, _, p := setup(t, 4)
	f.InjectFault(fake.Fault{Path: "/v2/checkout/orders", Status: 429, RetryAfter: 0})
	f.InjectFault(fake.Fault{Path: "/v2/checkout/orders", Status: 503})
	f.InjectFault(fake.Fault{Path: "/v2/checkout/orders", Status: 500, AfterExecute: true}) // executed, answer lost, retried: replay
	ch, err := p.Charge(context.Background(), req("inv-4", 1, "10.00"))
	if err != nil || ch.Status != provider.StatusSucceeded {
		t.Fatalf("%+v %v", ch, err)
	}
	if n := f.Executed("POST", "/v2/checkout/orders"); n != 1 {
		t.Fatalf("executed %d creates, want 1", n)
	}
	// Exhausted retries: the RATE_LIMIT_REACHED envelope comes back as an error.
	f2, _, p2 := setup(t, -1)
	f2.InjectFault(fake.Fault{Path: "/v2/checkout/orders", Status: 429})
	_, err = p2.Charge(context.Background(), req("inv-5", 1, "10.00"))
	var pe *paypal.Error
	if !errors.As(err, &pe) || pe.Status != 429 || pe.Name != "RATE_LIMIT_REACHED" || pe.DebugID == "" {
		t.Fatalf("429 without retries: %v", err)
	}
}

func TestLostAnswerFoundByTransactionSearch(t *testing.T) {
	f, _, p := setup(t, -1)
	ctx := context.Background()
	f.InjectFault(fake.Fault{Path: "/v2/checkout/orders", Status: 500, AfterExecute: true})
	if _, err := p.Charge(ctx, req("inv-6", 1, "99.99")); err == nil {
		t.Fatal("want the lost answer to be an error")
	}
	ch, found, err := p.LookupCharge(ctx, "invoice:inv-6:charge:1", "inv-6", time.Now().Add(-time.Hour))
	if err != nil || !found || ch.Status != provider.StatusSucceeded || !ch.Amount.Equal(decimal.RequireFromString("99.99")) {
		t.Fatalf("lookup: %+v %v %v", ch, found, err)
	}
	if _, found, err := p.LookupCharge(ctx, "invoice:inv-6:charge:2", "inv-6", time.Now().Add(-time.Hour)); err != nil || found {
		t.Fatalf("lookup of an unknown key: %v %v", found, err)
	}
	if n := f.Executed("POST", "/v2/checkout/orders"); n != 1 {
		t.Fatalf("executed %d creates, want 1", n)
	}
}

func TestDeclineAndPending(t *testing.T) {
	f, c, p := setup(t, 4)
	ctx := context.Background()
	f.DeclineNext()
	ch, err := p.Charge(ctx, req("inv-7", 1, "5.00"))
	if err != nil || ch.Status != provider.StatusFailed || ch.FailureCode != "INSTRUMENT_DECLINED" {
		t.Fatalf("decline: %+v %v", ch, err)
	}
	again, err := p.Charge(ctx, req("inv-7", 1, "5.00"))
	if err != nil || again.Status != provider.StatusFailed {
		t.Fatalf("replayed decline: %+v %v", again, err)
	}
	f.PendNext("PENDING_REVIEW")
	ch, err = p.Charge(ctx, req("inv-7", 2, "5.00"))
	if err != nil || ch.Status != provider.StatusPending {
		t.Fatalf("pending: %+v %v", ch, err)
	}
	if err := f.CompletePending(ch.ProviderID); err != nil {
		t.Fatal(err)
	}
	cp, err := c.GetCapture(ctx, ch.ProviderID)
	if err != nil || cp.Status != "COMPLETED" {
		t.Fatalf("capture after completion: %+v %v", cp, err)
	}
	evs := f.Events()
	if len(evs) != 2 || !strings.Contains(string(evs[0]), "PAYMENT.CAPTURE.PENDING") || !strings.Contains(string(evs[1]), "PAYMENT.CAPTURE.COMPLETED") {
		t.Fatalf("events: %d", len(evs))
	}
	// The invoice is now paid: another order for it is a DUPLICATE_INVOICE_ID.
	_, err = p.Charge(ctx, req("inv-7", 3, "5.00"))
	if !paypal.IsIssue(err, "DUPLICATE_INVOICE_ID") {
		t.Fatalf("duplicate invoice: %v", err)
	}
}

func TestApprovalFlowErrors(t *testing.T) {
	f, c, _ := setup(t, 4)
	ctx := context.Background()
	o, err := c.CreateOrder(ctx, "order-a", paypal.CreateOrderRequest{Intent: "CAPTURE",
		PurchaseUnits: []paypal.PurchaseUnit{{InvoiceID: "inv-8", Amount: paypal.Amount{CurrencyCode: "USD", Value: "12.00"}}}})
	if err != nil || o.Status != "CREATED" {
		t.Fatalf("create: %+v %v", o, err)
	}
	if _, err := c.CaptureOrder(ctx, "cap-1", o.ID); !paypal.IsIssue(err, "ORDER_NOT_APPROVED") {
		t.Fatalf("capture before approval: %v", err)
	}
	if err := f.Approve(o.ID); err != nil {
		t.Fatal(err)
	}
	done, err := c.CaptureOrder(ctx, "cap-2", o.ID)
	if err != nil || done.Status != "COMPLETED" {
		t.Fatalf("capture: %+v %v", done, err)
	}
	if _, err := c.CaptureOrder(ctx, "cap-3", o.ID); !paypal.IsIssue(err, "ORDER_ALREADY_CAPTURED") {
		t.Fatalf("second capture: %v", err)
	}
	// Bad amounts are reported with the field path.
	_, err = c.CreateOrder(ctx, "order-b", paypal.CreateOrderRequest{Intent: "CAPTURE",
		PurchaseUnits: []paypal.PurchaseUnit{{Amount: paypal.Amount{CurrencyCode: "JPY", Value: "10.5"}}}})
	var pe *paypal.Error
	if !errors.As(err, &pe) || pe.Status != 400 || pe.Details[0].Field != "/purchase_units/0/amount/value" || pe.Issue() != "DECIMAL_PRECISION" {
		t.Fatalf("bad amount: %v", err)
	}
}

func TestRefundAndListCaptured(t *testing.T) {
	f, _, p := setup(t, 4)
	ctx := context.Background()
	from := time.Now().Add(-time.Minute)
	a, err := p.Charge(ctx, req("inv-9", 1, "40.00"))
	if err != nil {
		t.Fatal(err)
	}
	f.DeclineNext()
	if _, err := p.Charge(ctx, req("inv-10", 1, "1.00")); err != nil {
		t.Fatal(err)
	}
	rr := provider.RefundRequest{ChargeProviderID: a.ProviderID, IdempotencyKey: provider.RefundKey("inv-9", 1), Amount: decimal.RequireFromString("15.00"), Currency: "EUR"}
	r1, err := p.Refund(ctx, rr)
	if err != nil || r1.Status != provider.StatusSucceeded {
		t.Fatalf("refund: %+v %v", r1, err)
	}
	r2, err := p.Refund(ctx, rr)
	if err != nil || r2.ProviderID != r1.ProviderID || f.Executed("POST", "/v2/payments/captures/") != 1 {
		t.Fatalf("refund retry: %+v %v", r2, err)
	}
	got, err := p.ListCaptured(ctx, from, time.Now().Add(time.Minute))
	if err != nil || len(got) != 1 || got[0].ProviderID != a.ProviderID || got[0].Key != "invoice:inv-9:charge:1" || !got[0].Amount.Equal(decimal.RequireFromString("40")) {
		t.Fatalf("captured: %+v %v", got, err)
	}
}

func TestVerifyWebhook(t *testing.T) {
	f, c, p := setup(t, 4)
	ctx := context.Background()
	if _, err := p.Charge(ctx, req("inv-11", 1, "3.00")); err != nil {
		t.Fatal(err)
	}
	ev := f.Events()[0]
	h := f.Sign(ev)
	hdr := http.Header{}
	hdr.Set("PAYPAL-TRANSMISSION-ID", h.TransmissionID)
	hdr.Set("PAYPAL-TRANSMISSION-TIME", h.TransmissionTime)
	hdr.Set("PAYPAL-TRANSMISSION-SIG", h.TransmissionSig)
	hdr.Set("PAYPAL-CERT-URL", h.CertURL)
	hdr.Set("PAYPAL-AUTH-ALGO", h.AuthAlgo)
	if err := c.VerifyWebhook(ctx, hdr, ev); err != nil {
		t.Fatalf("genuine delivery: %v", err)
	}
	tampered := []byte(strings.Replace(string(ev), "3.00", "30.00", 1))
	if err := c.VerifyWebhook(ctx, hdr, tampered); !errors.Is(err, paypal.ErrBadSignature) {
		t.Fatalf("tampered body: %v", err)
	}
	hdr.Del("PAYPAL-TRANSMISSION-SIG")
	if err := c.VerifyWebhook(ctx, hdr, ev); !errors.Is(err, paypal.ErrBadSignature) || !strings.Contains(err.Error(), "PAYPAL-TRANSMISSION-SIG") {
		t.Fatalf("missing header: %v", err)
	}
}
