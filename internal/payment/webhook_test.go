package payment_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/revhub/revhub/connectors/provider"
	stfake "github.com/revhub/revhub/connectors/stripe/fake"
	"github.com/revhub/revhub/internal/payment"
)

func (e *env) deliverStripe(t *testing.T, payload []byte) (int, string) {
	t.Helper()
	status, body, err := e.stripe.Deliver(context.Background(), e.stripeWH, payload)
	if err != nil {
		t.Fatal(err)
	}
	return status, strings.TrimSpace(string(body))
}

func (e *env) deliverPayPal(t *testing.T, payload []byte) (int, string) {
	t.Helper()
	status, body, err := e.paypal.Deliver(context.Background(), e.paypalWH, payload)
	if err != nil {
		t.Fatal(err)
	}
	return status, strings.TrimSpace(string(body))
}

func (e *env) eventRows(t *testing.T) int {
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM payment_webhook_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStripeWebhooksDeliveredThreeTimesChangeNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.receivable(t, "INV-600", "60.00", "USD")
	// A lost answer leaves the charge pending; the success webhook settles it.
	e.stripe.InjectFault(stfake.Fault{Path: "/v1/payment_intents", Status: 500, AfterExecute: true})
	p, _ := e.svc.Charge(ctx, provider.Stripe, chargeReq("INV-600", 1, "60.00", "USD"))
	if p.Status != provider.StatusPending {
		t.Fatalf("%+v", p)
	}
	pis := e.stripe.PaymentIntents()
	succeeded := e.stripe.Event("payment_intent.succeeded", pis[0])
	want := []string{payment.OutcomeApplied, payment.OutcomeDuplicate, payment.OutcomeDuplicate}
	for i := range 3 {
		status, out := e.deliverStripe(t, succeeded)
		if status != 200 || out != want[i] {
			t.Fatalf("delivery %d: %d %q, want %q", i, status, out, want[i])
		}
	}
	got, err := payment.GetByKey(ctx, e.db.Pool, p.IdempotencyKey)
	if err != nil || got.Status != provider.StatusSucceeded || got.ProviderID != pis[0]["id"] {
		t.Fatalf("after webhook: %+v %v", got, err)
	}
	// A refund, reported three times as Stripe's running total, is recorded once.
	if _, err := e.stripeC.Refund(ctx, provider.RefundRequest{ChargeProviderID: got.ProviderID, IdempotencyKey: provider.RefundKey("INV-600", 1), Amount: dec("20.00"), Currency: "USD"}); err != nil {
		t.Fatal(err)
	}
	evs := e.stripe.Events()
	refunded := evs[len(evs)-1]
	if !strings.Contains(string(refunded), `"charge.refunded"`) {
		t.Fatalf("last event: %s", refunded)
	}
	for i := range 3 {
		if status, out := e.deliverStripe(t, refunded); status != 200 || out != want[i] {
			t.Fatalf("refund delivery %d: %d %q", i, status, out)
		}
	}
	paid, _ := payment.Paid(ctx, e.db.Pool, "INV-600")
	if !paid.Equal(dec("40.00")) {
		t.Fatalf("paid after refund %s, want 40.00", paid)
	}
	// The charge's own success event, delivered once more by the layer's log, is a duplicate too.
	if status, out := e.deliverStripe(t, succeeded); status != 200 || out != payment.OutcomeDuplicate {
		t.Fatalf("late redelivery: %d %q", status, out)
	}
	if n := e.eventRows(t); n != 2 {
		t.Fatalf("%d event rows, want 2", n)
	}
}

func TestPayPalPendingCaptureCompletedByWebhookOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.receivable(t, "INV-700", "70.00", "EUR")
	e.paypal.PendNext("PENDING_REVIEW")
	p, err := e.svc.Charge(ctx, provider.PayPal, chargeReq("INV-700", 1, "70.00", "EUR"))
	if err != nil || p.Status != provider.StatusPending || p.ProviderID == "" {
		t.Fatalf("pending capture: %+v %v", p, err)
	}
	pendingEv := e.paypal.Events()[0]
	if status, out := e.deliverPayPal(t, pendingEv); status != 200 || out != payment.OutcomeUnchanged {
		t.Fatalf("pending webhook: %d %q", status, out)
	}
	if err := e.paypal.CompletePending(p.ProviderID); err != nil {
		t.Fatal(err)
	}
	completed := e.paypal.Events()[1]
	want := []string{payment.OutcomeApplied, payment.OutcomeDuplicate, payment.OutcomeDuplicate}
	for i := range 3 {
		if status, out := e.deliverPayPal(t, completed); status != 200 || out != want[i] {
			t.Fatalf("delivery %d: %d %q, want %q", i, status, out, want[i])
		}
	}
	got, _ := payment.GetByKey(ctx, e.db.Pool, p.IdempotencyKey)
	if got.Status != provider.StatusSucceeded || got.CapturedAt == nil {
		t.Fatalf("after completion: %+v", got)
	}
	// A refund webhook, delivered three times, records one refund.
	if _, err := e.paypalP.Refund(ctx, provider.RefundRequest{ChargeProviderID: p.ProviderID, IdempotencyKey: provider.RefundKey("INV-700", 1), Amount: dec("70.00"), Currency: "EUR"}); err != nil {
		t.Fatal(err)
	}
	refunded := e.paypal.Events()[2]
	for i := range 3 {
		if status, out := e.deliverPayPal(t, refunded); status != 200 || out != want[i] {
			t.Fatalf("refund delivery %d: %d %q", i, status, out)
		}
	}
	if paid, _ := payment.Paid(ctx, e.db.Pool, "INV-700"); !paid.IsZero() {
		t.Fatalf("paid after full refund: %s", paid)
	}
}

func TestBadWebhooksRejectedAndRecorded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.receivable(t, "INV-800", "80.00", "USD")
	e.stripe.InjectFault(stfake.Fault{Path: "/v1/payment_intents", Status: 500, AfterExecute: true})
	p, _ := e.svc.Charge(ctx, provider.Stripe, chargeReq("INV-800", 1, "80.00", "USD"))
	pi := e.stripe.PaymentIntents()[0]
	good := e.stripe.Event("payment_intent.succeeded", pi)

	// 1. Wrong signature.
	status, body, _ := e.stripe.DeliverSigned(ctx, e.stripeWH, good, stfake.Sign(good, "whsec_attacker", time.Now()))
	if status != 400 || !strings.Contains(string(body), payment.RejectSignature) {
		t.Fatalf("wrong signature: %d %s", status, body)
	}
	// 2. Stale signature (replayed capture of an old delivery).
	status, body, _ = e.stripe.DeliverSigned(ctx, e.stripeWH, good, stfake.Sign(good, whsec, time.Now().Add(-time.Hour)))
	if status != 400 || !strings.Contains(string(body), "timestamp wasn't within tolerance") {
		t.Fatalf("stale signature: %d %s", status, body)
	}
	// 3. Amount mismatch: a correctly signed event saying another amount.
	tampered := clone(pi)
	tampered["amount"] = 1
	if status, out := e.deliverStripe(t, e.stripe.Event("payment_intent.succeeded", tampered)); status != 400 || !strings.Contains(out, payment.RejectAmountMismatch) {
		t.Fatalf("amount mismatch: %d %s", status, out)
	}
	// 4. Unknown invoice: a charge for an invoice revhub never registered.
	ghost := clone(pi)
	ghost["id"] = "pi_ghost"
	ghost["metadata"] = map[string]any{"invoice_id": "INV-GHOST", "revhub_key": "invoice:INV-GHOST:charge:1"}
	if status, out := e.deliverStripe(t, e.stripe.Event("payment_intent.succeeded", ghost)); status != 400 || !strings.Contains(out, payment.RejectUnknownInvoice) {
		t.Fatalf("unknown invoice: %d %s", status, out)
	}
	// 5. PayPal: a body altered after signing fails PayPal's verification (HTTP 200 FAILURE).
	e.receivable(t, "INV-801", "5.00", "USD")
	if _, err := e.svc.Charge(ctx, provider.PayPal, chargeReq("INV-801", 1, "5.00", "USD")); err != nil {
		t.Fatal(err)
	}
	ppEv := e.paypal.Events()[0]
	h := e.paypal.Sign(ppEv)
	status, body, _ = e.paypal.DeliverWith(ctx, e.paypalWH, []byte(strings.Replace(string(ppEv), `"5.00"`, `"0.01"`, -1)), h)
	if status != 400 || !strings.Contains(string(body), "verification_status FAILURE") {
		t.Fatalf("paypal tampered: %d %s", status, body)
	}

	// Nothing was applied: the charge is still pending and no event row exists.
	got, _ := payment.GetByKey(ctx, e.db.Pool, p.IdempotencyKey)
	if got.Status != provider.StatusPending || e.eventRows(t) != 0 {
		t.Fatalf("a bad webhook changed state: %+v, %d event rows", got, e.eventRows(t))
	}
	rs, err := payment.ListRejections(ctx, e.db.Pool, provider.Stripe)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, r := range rs {
		codes = append(codes, r.Code)
		if r.Reason == "" || strings.Contains(r.Reason, whsec) {
			t.Fatalf("rejection reason %q", r.Reason)
		}
	}
	if strings.Join(codes, ",") != "bad_signature,bad_signature,amount_mismatch,unknown_invoice" {
		t.Fatalf("stripe rejections %v", codes)
	}
	if rs, _ := payment.ListRejections(ctx, e.db.Pool, provider.PayPal); len(rs) != 1 || rs[0].Code != payment.RejectSignature {
		t.Fatalf("paypal rejections %+v", rs)
	}
	// The genuine event still applies afterwards.
	if status, out := e.deliverStripe(t, good); status != 200 || out != payment.OutcomeApplied {
		t.Fatalf("genuine after bad ones: %d %q", status, out)
	}
	// Rejections are append-only.
	if _, err := e.db.Pool.Exec(ctx, `DELETE FROM payment_webhook_rejections`); err == nil {
		t.Fatal("rejections could be deleted")
	}
}

func clone(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

func TestRefundRecordedOnceThroughServiceAndWebhook(t *testing.T) {
	forBoth(t, func(t *testing.T, e *env, name provider.Name) {
		ctx := context.Background()
		e.receivable(t, "INV-850", "90.00", "USD")
		ch, err := e.svc.Charge(ctx, name, chargeReq("INV-850", 1, "90.00", "USD"))
		if err != nil {
			t.Fatal(err)
		}
		rr := provider.RefundRequest{IdempotencyKey: provider.RefundKey("INV-850", 1), Amount: dec("30.00"), Currency: "USD"}
		var first payment.Payment
		for i := range 3 {
			r, err := e.svc.Refund(ctx, ch.IdempotencyKey, rr)
			if err != nil || r.Status != provider.StatusSucceeded || r.Kind != payment.KindRefund {
				t.Fatalf("refund try %d: %+v %v", i, r, err)
			}
			if i == 0 {
				first = r
			} else if r.ID != first.ID {
				t.Fatalf("refund try %d recorded another refund", i)
			}
		}
		// The provider's refund webhook, delivered three times, adds nothing.
		var refundEv []byte
		if name == provider.Stripe {
			evs := e.stripe.Events()
			refundEv = evs[len(evs)-1]
		} else {
			evs := e.paypal.Events()
			refundEv = evs[len(evs)-1]
		}
		want := []string{payment.OutcomeUnchanged, payment.OutcomeDuplicate, payment.OutcomeDuplicate}
		for i := range 3 {
			var status int
			var out string
			if name == provider.Stripe {
				status, out = e.deliverStripe(t, refundEv)
			} else {
				status, out = e.deliverPayPal(t, refundEv)
			}
			if status != 200 || out != want[i] {
				t.Fatalf("refund webhook %d: %d %q, want %q", i, status, out, want[i])
			}
		}
		if paid, _ := payment.Paid(ctx, e.db.Pool, "INV-850"); !paid.Equal(dec("60.00")) {
			t.Fatalf("paid %s, want 60.00", paid)
		}
		// More than what is left is refused before the provider is called.
		_, err = e.svc.Refund(ctx, ch.IdempotencyKey, provider.RefundRequest{IdempotencyKey: provider.RefundKey("INV-850", 2), Amount: dec("60.01"), Currency: "USD"})
		if err == nil || !strings.Contains(err.Error(), "exceeds the charge's 90") {
			t.Fatalf("over-refund: %v", err)
		}
		if _, err := payment.GetByKey(ctx, e.db.Pool, provider.RefundKey("INV-850", 2)); !errors.Is(err, payment.ErrNotFound) {
			t.Fatalf("a refused refund left a record: %v", err)
		}
	})
}

func TestRefundLostAnswerRetriedUnderSameKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.receivable(t, "INV-860", "50.00", "USD")
	ch, err := e.svc.Charge(ctx, provider.Stripe, chargeReq("INV-860", 1, "50.00", "USD"))
	if err != nil {
		t.Fatal(err)
	}
	rr := provider.RefundRequest{IdempotencyKey: provider.RefundKey("INV-860", 1), Amount: dec("50.00"), Currency: "USD"}
	e.stripe.InjectFault(stfake.Fault{Path: "/v1/refunds", Status: 500, AfterExecute: true})
	if r, err := e.svc.Refund(ctx, ch.IdempotencyKey, rr); err == nil || r.Status != provider.StatusPending {
		t.Fatalf("lost refund answer: %+v %v", r, err)
	}
	r, err := e.svc.Refund(ctx, ch.IdempotencyKey, rr)
	if err != nil || r.Status != provider.StatusSucceeded {
		t.Fatalf("retry: %+v %v", r, err)
	}
	if _, n := e.stripe.Count("POST", "/v1/refunds"); n != 1 {
		t.Fatalf("provider made %d refunds, want 1", n)
	}
}
