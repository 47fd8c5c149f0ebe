package stripe_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/revhub/revhub/connectors/provider"
	rstripe "github.com/revhub/revhub/connectors/stripe"
	"github.com/revhub/revhub/connectors/stripe/fake"
)

var mockURL string

func TestMain(m *testing.M) {
	mock, err := fake.StartMock(context.Background(), fake.MockOptions{})
	if err == nil {
		mockURL = mock.URL
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stripe-mock is required:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = mock.Stop()
	os.Exit(code)
}

const secret = "whsec_test_secret"

func setup(t *testing.T, retries int64) (*fake.Server, *rstripe.Client) {
	t.Helper()
	layer := fake.New(fake.Options{MockURL: mockURL, WebhookSecret: secret})
	srv := httptest.NewServer(layer.Handler())
	t.Cleanup(srv.Close)
	c, err := rstripe.New(rstripe.Config{APIKey: "sk_test_123", BaseURL: srv.URL, MaxNetworkRetries: retries})
	if err != nil {
		t.Fatal(err)
	}
	return layer, c
}

func chargeReq(inv string, attempt int, amount string) provider.ChargeRequest {
	return provider.ChargeRequest{InvoiceID: inv, Attempt: attempt, IdempotencyKey: provider.ChargeKey(inv, attempt),
		Customer: provider.Customer{ID: "c1", ProviderCustomer: "cus_123", PaymentMethod: "pm_card_visa"},
		Amount:   decimal.RequireFromString(amount), Currency: "USD"}
}

func TestChargeRetriedSameKeyChargesOnce(t *testing.T) {
	layer, c := setup(t, -1)
	ctx := context.Background()
	var first provider.Charge
	for i := range 3 {
		ch, err := c.Charge(ctx, chargeReq("inv_1", 1, "125.50"))
		if err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		if ch.Status != provider.StatusSucceeded || !ch.Amount.Equal(decimal.RequireFromString("125.50")) || ch.InvoiceID != "inv_1" || ch.IdempotencyKey != "invoice:inv_1:charge:1" {
			t.Fatalf("attempt %d: %+v", i, ch)
		}
		if i == 0 {
			first = ch
		} else if ch.ProviderID != first.ProviderID {
			t.Fatalf("retry %d created another PaymentIntent %s (first %s)", i, ch.ProviderID, first.ProviderID)
		}
	}
	all, executed := layer.Count("POST", "/v1/payment_intents")
	if all != 3 || executed != 1 || len(layer.PaymentIntents()) != 1 {
		t.Fatalf("request log: %d posts, %d executed, %d intents; want 3, 1, 1", all, executed, len(layer.PaymentIntents()))
	}
	for _, r := range layer.Requests() {
		if r.IdempotencyKey != "invoice:inv_1:charge:1" || r.Form.Get("metadata[invoice_id]") != "inv_1" || r.Form.Get("amount") != "12550" {
			t.Fatalf("request sent %+v", r)
		}
	}
	// Same key, other parameters: Stripe's idempotency_error.
	_, err := c.Charge(ctx, chargeReq("inv_1", 1, "99.00"))
	if err == nil || !strings.Contains(err.Error(), "idempotency_error") {
		t.Fatalf("same key, other amount: %v", err)
	}
}

func TestDeclineIsAFailedCharge(t *testing.T) {
	layer, c := setup(t, -1)
	layer.DeclineNext("insufficient_funds")
	ch, err := c.Charge(context.Background(), chargeReq("inv_2", 1, "10.00"))
	if err != nil {
		t.Fatal(err)
	}
	if ch.Status != provider.StatusFailed || ch.FailureCode != "insufficient_funds" || !strings.HasPrefix(ch.ProviderID, "pi_") {
		t.Fatalf("decline: %+v", ch)
	}
	// The decline was saved under the key: a retry with the same key replays it.
	again, err := c.Charge(context.Background(), chargeReq("inv_2", 1, "10.00"))
	if err != nil || again.Status != provider.StatusFailed || again.ProviderID != ch.ProviderID {
		t.Fatalf("replayed decline: %+v %v", again, err)
	}
	// The next attempt has its own key and succeeds.
	next, err := c.Charge(context.Background(), chargeReq("inv_2", 2, "10.00"))
	if err != nil || next.Status != provider.StatusSucceeded {
		t.Fatalf("attempt 2: %+v %v", next, err)
	}
}

func TestLostAnswerIsFoundByLookup(t *testing.T) {
	layer, c := setup(t, -1)
	ctx := context.Background()
	layer.InjectFault(fake.Fault{Path: "/v1/payment_intents", Status: 500, AfterExecute: true})
	if _, err := c.Charge(ctx, chargeReq("inv_3", 1, "42.00")); err == nil {
		t.Fatal("lost answer: want an error")
	}
	ch, found, err := c.LookupCharge(ctx, "invoice:inv_3:charge:1", "inv_3", time.Now().Add(-time.Hour))
	if err != nil || !found || ch.Status != provider.StatusSucceeded || !ch.Amount.Equal(decimal.RequireFromString("42")) {
		t.Fatalf("lookup: %+v found=%v err=%v", ch, found, err)
	}
	if _, found, err := c.LookupCharge(ctx, "invoice:inv_3:charge:2", "inv_3", time.Now().Add(-time.Hour)); err != nil || found {
		t.Fatalf("lookup of a key never charged: found=%v err=%v", found, err)
	}
	if _, executed := layer.Count("POST", "/v1/payment_intents"); executed != 1 {
		t.Fatalf("executed creates = %d, want 1", executed)
	}
}

func TestRefundAndListCaptured(t *testing.T) {
	layer, c := setup(t, -1)
	ctx := context.Background()
	from := time.Now().Add(-time.Minute)
	a, err := c.Charge(ctx, chargeReq("inv_4", 1, "30.00"))
	if err != nil {
		t.Fatal(err)
	}
	layer.DeclineNext("card_declined")
	if _, err := c.Charge(ctx, chargeReq("inv_5", 1, "5.00")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Charge(ctx, chargeReq("inv_6", 1, "7.25")); err != nil {
		t.Fatal(err)
	}
	got, err := c.ListCaptured(ctx, from, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("captured = %+v, want the 2 succeeded intents", got)
	}
	key := provider.RefundKey("inv_4", 1)
	req := provider.RefundRequest{ChargeProviderID: a.ProviderID, IdempotencyKey: key, Amount: decimal.RequireFromString("10.00"), Currency: "USD"}
	r1, err := c.Refund(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.Refund(ctx, req)
	if err != nil || r2.ProviderID != r1.ProviderID || r1.Status != provider.StatusSucceeded || !r1.Amount.Equal(decimal.RequireFromString("10")) {
		t.Fatalf("refund retry: %+v %+v %v", r1, r2, err)
	}
	if _, executed := layer.Count("POST", "/v1/refunds"); executed != 1 {
		t.Fatalf("executed refunds = %d, want 1", executed)
	}
	req.IdempotencyKey, req.Amount = provider.RefundKey("inv_4", 2), decimal.RequireFromString("25.00")
	if _, err := c.Refund(ctx, req); err == nil || !strings.Contains(err.Error(), "amount_too_large") {
		t.Fatalf("refund above the remainder: %v", err)
	}
}

func TestVerifyWebhook(t *testing.T) {
	layer, c := setup(t, -1)
	ch, err := c.Charge(context.Background(), chargeReq("inv_7", 1, "1.00"))
	if err != nil {
		t.Fatal(err)
	}
	pi, _ := layer.PaymentIntent(ch.ProviderID)
	payload := layer.Event("payment_intent.succeeded", pi)
	v, err := rstripe.NewVerifier(secret, 0)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := v.Verify(payload, fake.Sign(payload, secret, time.Now()))
	if err != nil || ev.Type != "payment_intent.succeeded" || !strings.HasPrefix(ev.ID, "evt_") {
		t.Fatalf("verify: %+v %v", ev.Type, err)
	}
	cases := map[string]struct {
		payload []byte
		header  string
		want    error
	}{
		"wrong secret":   {payload, fake.Sign(payload, "whsec_other", time.Now()), webhook.ErrNoValidSignature},
		"tampered body":  {append([]byte(" "), payload...), fake.Sign(payload, secret, time.Now()), webhook.ErrNoValidSignature},
		"too old":        {payload, fake.Sign(payload, secret, time.Now().Add(-10*time.Minute)), webhook.ErrTooOld},
		"no signature":   {payload, "", webhook.ErrNotSigned},
		"garbage header": {payload, "nonsense", webhook.ErrInvalidHeader},
	}
	for name, tc := range cases {
		if _, err := v.Verify(tc.payload, tc.header); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

func TestStripeGoRetriesReplayUnderTheSameKey(t *testing.T) {
	layer, c := setup(t, 2)
	layer.InjectFault(fake.Fault{Path: "/v1/payment_intents", Drop: true, AfterExecute: true})
	ch, err := c.Charge(context.Background(), chargeReq("inv_8", 1, "8.00"))
	if err != nil || ch.Status != provider.StatusSucceeded {
		t.Fatalf("%+v %v", ch, err)
	}
	all, executed := layer.Count("POST", "/v1/payment_intents")
	if all != 2 || executed != 1 {
		t.Fatalf("posts %d, executed %d; want 2, 1", all, executed)
	}
	reqs := layer.Requests()
	if !reqs[1].Replayed || reqs[1].IdempotencyKey != reqs[0].IdempotencyKey {
		t.Fatalf("retry not replayed under the same key: %+v", reqs[1])
	}
}

func TestErrorsNeverCarryTheAPIKey(t *testing.T) {
	c, err := rstripe.New(rstripe.Config{APIKey: "sk_live_notvalidformock", BaseURL: mockURL, MaxNetworkRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Charge(context.Background(), chargeReq("inv_k", 1, "1.00"))
	if err == nil || strings.Contains(err.Error(), "notvalidformock") || !strings.Contains(err.Error(), "401") {
		t.Fatalf("error %v", err)
	}
}
