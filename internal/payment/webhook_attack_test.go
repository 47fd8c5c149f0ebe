package payment_test

import (
	"context"
	"strings"
	"testing"
	"time"

	ppfake "github.com/revhub/revhub/connectors/paypal/fake"
	"github.com/revhub/revhub/connectors/provider"
	stfake "github.com/revhub/revhub/connectors/stripe/fake"
	"github.com/revhub/revhub/internal/payment"
)

// rejectionCodes lists the recorded rejections of a provider, oldest first.
func (e *env) rejectionCodes(t *testing.T, p provider.Name) []string {
	t.Helper()
	rs, err := payment.ListRejections(context.Background(), e.db.Pool, p)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return out
}

// TestStripeTamperedStaleAndReplayedDeliveries: a body changed after signing, a delivery signed
// an hour ago and a captured delivery replayed after the tolerance are each refused and recorded;
// a replay within the tolerance is a duplicate that changes nothing.
func TestStripeTamperedStaleAndReplayedDeliveries(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.receivable(t, "INV-900", "90.00", "USD")
	e.stripe.InjectFault(stfake.Fault{Path: "/v1/payment_intents", Status: 500, AfterExecute: true})
	p, _ := e.svc.Charge(ctx, provider.Stripe, chargeReq("INV-900", 1, "90.00", "USD"))
	good := e.stripe.Event("payment_intent.succeeded", e.stripe.PaymentIntents()[0])
	sig := stfake.Sign(good, whsec, time.Now())

	tampered := []byte(strings.Replace(string(good), `"amount":9000`, `"amount":1`, 1))
	if string(tampered) == string(good) {
		t.Fatal("the event has no amount to tamper with")
	}
	if status, body, _ := e.stripe.DeliverSigned(ctx, e.stripeWH, tampered, sig); status != 400 || !strings.Contains(string(body), payment.RejectSignature) {
		t.Fatalf("tampered body: %d %s", status, body)
	}
	if status, body, _ := e.stripe.DeliverSigned(ctx, e.stripeWH, good, stfake.Sign(good, whsec, time.Now().Add(-time.Hour))); status != 400 || !strings.Contains(string(body), "tolerance") {
		t.Fatalf("old timestamp: %d %s", status, body)
	}
	// The genuine delivery applies; the same bytes and header again are a duplicate.
	for i, want := range []string{payment.OutcomeApplied, payment.OutcomeDuplicate} {
		if status, body, _ := e.stripe.DeliverSigned(ctx, e.stripeWH, good, sig); status != 200 || string(body) != want {
			t.Fatalf("delivery %d: %d %s, want %s", i, status, body, want)
		}
	}
	// Captured and replayed after the tolerance: refused even though the signature is genuine.
	captured := stfake.Sign(good, whsec, time.Now().Add(-6*time.Minute))
	if status, body, _ := e.stripe.DeliverSigned(ctx, e.stripeWH, good, captured); status != 400 || !strings.Contains(string(body), payment.RejectSignature) {
		t.Fatalf("replay after the tolerance: %d %s", status, body)
	}
	if got := strings.Join(e.rejectionCodes(t, provider.Stripe), ","); got != "bad_signature,bad_signature,bad_signature" {
		t.Fatalf("recorded stripe rejections %s", got)
	}
	if got, _ := payment.GetByKey(ctx, e.db.Pool, p.IdempotencyKey); got.Status != provider.StatusSucceeded || e.eventRows(t) != 1 {
		t.Fatalf("after the attacks: %+v, %d event rows", got, e.eventRows(t))
	}
}

// TestPayPalTamperedStaleAndReplayedDeliveries is the same for PayPal, whose verification API
// does not look at the transmission time: revhub refuses a delivery sent outside the tolerance itself.
func TestPayPalTamperedStaleAndReplayedDeliveries(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.receivable(t, "INV-901", "9.00", "USD")
	e.paypal.PendNext("PENDING_REVIEW")
	p, err := e.svc.Charge(ctx, provider.PayPal, chargeReq("INV-901", 1, "9.00", "USD"))
	if err != nil || p.Status != provider.StatusPending {
		t.Fatalf("pending capture: %+v %v", p, err)
	}
	if err := e.paypal.CompletePending(p.ProviderID); err != nil {
		t.Fatal(err)
	}
	completed := e.paypal.Events()[1]
	h := e.paypal.Sign(completed)

	tampered := []byte(strings.Replace(string(completed), `"9.00"`, `"0.01"`, -1))
	if status, body, _ := e.paypal.DeliverWith(ctx, e.paypalWH, tampered, h); status != 400 || !strings.Contains(string(body), "verification_status FAILURE") {
		t.Fatalf("tampered body: %d %s", status, body)
	}
	// Signed by PayPal an hour ago (a genuine signature PayPal would still confirm).
	old := ppfake.New(ppfake.Options{WebhookID: "WH-REVHUB", Now: func() time.Time { return time.Now().Add(-time.Hour) }}).Sign(completed)
	if status, body, _ := e.paypal.DeliverWith(ctx, e.paypalWH, completed, old); status != 400 || !strings.Contains(string(body), "outside the tolerance") {
		t.Fatalf("old transmission: %d %s", status, body)
	}
	for i, want := range []string{payment.OutcomeApplied, payment.OutcomeDuplicate} {
		if status, body, _ := e.paypal.DeliverWith(ctx, e.paypalWH, completed, h); status != 200 || string(body) != want {
			t.Fatalf("delivery %d: %d %s, want %s", i, status, body, want)
		}
	}
	if got := strings.Join(e.rejectionCodes(t, provider.PayPal), ","); got != "bad_signature,bad_signature" {
		t.Fatalf("recorded paypal rejections %s", got)
	}
	if got, _ := payment.GetByKey(ctx, e.db.Pool, p.IdempotencyKey); got.Status != provider.StatusSucceeded || e.eventRows(t) != 1 {
		t.Fatalf("after the attacks: %+v, %d event rows", got, e.eventRows(t))
	}
}
