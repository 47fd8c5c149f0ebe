package payment_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	ppfake "github.com/revhub/revhub/connectors/paypal/fake"
	"github.com/revhub/revhub/connectors/provider"
	stfake "github.com/revhub/revhub/connectors/stripe/fake"
	"github.com/revhub/revhub/internal/payment"
)

// executedCreates counts provider-side charges actually made (not replays) in the fake's log.
func (e *env) executedCreates(name provider.Name) int {
	if name == provider.Stripe {
		_, n := e.stripe.Count("POST", "/v1/payment_intents")
		return n
	}
	return e.paypal.Executed("POST", "/v2/checkout/orders")
}

func forBoth(t *testing.T, f func(t *testing.T, e *env, name provider.Name)) {
	for _, name := range []provider.Name{provider.Stripe, provider.PayPal} {
		t.Run(string(name), func(t *testing.T) { f(t, newEnv(t), name) })
	}
}

func TestChargeRetriedThreeTimesChargesOnce(t *testing.T) {
	forBoth(t, func(t *testing.T, e *env, name provider.Name) {
		ctx := context.Background()
		e.receivable(t, "INV-100", "125.50", "USD")
		var first payment.Payment
		for i := range 3 {
			p, err := e.svc.Charge(ctx, name, chargeReq("INV-100", 1, "125.50", "USD"))
			if err != nil {
				t.Fatalf("try %d: %v", i, err)
			}
			if p.Status != provider.StatusSucceeded || p.ProviderID == "" || p.CapturedAt == nil || p.IdempotencyKey != "invoice:INV-100:charge:1" {
				t.Fatalf("try %d: %+v", i, p)
			}
			if i == 0 {
				first = p
			} else if p.ID != first.ID || p.ProviderID != first.ProviderID {
				t.Fatalf("try %d: %+v differs from %+v", i, p, first)
			}
		}
		if n := e.executedCreates(name); n != 1 {
			t.Fatalf("provider made %d charges, want 1", n)
		}
		ps, err := payment.ListByInvoice(ctx, e.db.Pool, "INV-100")
		if err != nil || len(ps) != 1 {
			t.Fatalf("records: %d %v", len(ps), err)
		}
		paid, _ := payment.Paid(ctx, e.db.Pool, "INV-100")
		if !paid.Equal(dec("125.50")) {
			t.Fatalf("paid %s", paid)
		}
		// The key reused for another amount is refused, not charged.
		if _, err := e.svc.Charge(ctx, name, chargeReq("INV-100", 1, "99.00", "USD")); !errors.Is(err, payment.ErrKeyConflict) {
			t.Fatalf("key reuse: %v", err)
		}
		if n := e.executedCreates(name); n != 1 {
			t.Fatalf("provider made %d charges after a key conflict, want 1", n)
		}
	})
}

func TestCrashBetweenCallAndRecordResolvedByLookup(t *testing.T) {
	forBoth(t, func(t *testing.T, e *env, name provider.Name) {
		ctx := context.Background()
		e.receivable(t, "INV-200", "80.00", "EUR")
		req := chargeReq("INV-200", 1, "80.00", "EUR")
		// What Charge does before the crash: the pending record, then the provider call whose answer is lost.
		pend, created, err := payment.InsertPending(ctx, e.db.Pool, payment.Payment{IdempotencyKey: req.IdempotencyKey, Kind: payment.KindCharge,
			Provider: name, InvoiceID: req.InvoiceID, Attempt: req.Attempt, Amount: req.Amount, Currency: req.Currency})
		if err != nil || !created || pend.Status != provider.StatusPending {
			t.Fatalf("pending: %+v %v %v", pend, created, err)
		}
		prov := map[provider.Name]provider.Provider{provider.Stripe: e.stripeC, provider.PayPal: e.paypalP}[name]
		if _, err := prov.Charge(ctx, req); err != nil {
			t.Fatal(err)
		}
		left, err := payment.ListPending(ctx, e.db.Pool, time.Now().Add(time.Second), 10)
		if err != nil || len(left) != 1 {
			t.Fatalf("pending after crash: %+v %v", left, err)
		}
		// The retry finds the pending record and looks the charge up instead of charging.
		p, err := e.svc.Charge(ctx, name, req)
		if err != nil || p.Status != provider.StatusSucceeded || p.ProviderID == "" {
			t.Fatalf("after retry: %+v %v", p, err)
		}
		if n := e.executedCreates(name); n != 1 {
			t.Fatalf("provider made %d charges, want 1", n)
		}
		if e2 := countPosts(e, name); e2 != 1 {
			t.Fatalf("the retry sent %d more charge requests, want none (lookup only)", e2-1)
		}
	})
}

func countPosts(e *env, name provider.Name) int {
	if name == provider.Stripe {
		n, _ := e.stripe.Count("POST", "/v1/payment_intents")
		return n
	}
	n := 0
	for _, r := range e.paypal.Requests() {
		if r.Method == "POST" && r.Path == "/v2/checkout/orders" {
			n++
		}
	}
	return n
}

func TestLostAnswerLeavesPendingThenResolve(t *testing.T) {
	forBoth(t, func(t *testing.T, e *env, name provider.Name) {
		ctx := context.Background()
		e.receivable(t, "INV-300", "42.00", "USD")
		if name == provider.Stripe {
			e.stripe.InjectFault(stfake.Fault{Path: "/v1/payment_intents", Status: 500, AfterExecute: true})
		} else {
			e.paypal.InjectFault(ppfake.Fault{Path: "/v2/checkout/orders", Status: 500, AfterExecute: true})
		}
		p, err := e.svc.Charge(ctx, name, chargeReq("INV-300", 1, "42.00", "USD"))
		if err == nil || p.Status != provider.StatusPending {
			t.Fatalf("lost answer: %+v %v", p, err)
		}
		got, err := e.svc.Resolve(ctx, p, chargeReq("INV-300", 1, "42.00", "USD").Customer)
		if err != nil || got.Status != provider.StatusSucceeded {
			t.Fatalf("resolve: %+v %v", got, err)
		}
		// Resolving again (already done) changes nothing.
		again, err := e.svc.Charge(ctx, name, chargeReq("INV-300", 1, "42.00", "USD"))
		if err != nil || again.ID != got.ID || again.Status != provider.StatusSucceeded {
			t.Fatalf("already done: %+v %v", again, err)
		}
		if n := e.executedCreates(name); n != 1 {
			t.Fatalf("provider made %d charges, want 1", n)
		}
	})
}

func TestPendingNeverSentIsSentOnceUnderSameKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.receivable(t, "INV-350", "10.00", "USD")
	// The provider refused before executing (a 503): nothing was charged, the record stays pending.
	e.stripe.InjectFault(stfake.Fault{Path: "/v1/payment_intents", Status: 503})
	p, err := e.svc.Charge(ctx, provider.Stripe, chargeReq("INV-350", 1, "10.00", "USD"))
	if err == nil || p.Status != provider.StatusPending {
		t.Fatalf("%+v %v", p, err)
	}
	// The retry looks up, finds nothing, and sends the charge under the same key.
	p, err = e.svc.Charge(ctx, provider.Stripe, chargeReq("INV-350", 1, "10.00", "USD"))
	if err != nil || p.Status != provider.StatusSucceeded {
		t.Fatalf("%+v %v", p, err)
	}
	if n := e.executedCreates(provider.Stripe); n != 1 {
		t.Fatalf("provider made %d charges, want 1", n)
	}
}

func TestDeclineRecordedAsFailed(t *testing.T) {
	forBoth(t, func(t *testing.T, e *env, name provider.Name) {
		ctx := context.Background()
		e.receivable(t, "INV-400", "15.00", "USD")
		if name == provider.Stripe {
			e.stripe.DeclineNext("insufficient_funds")
		} else {
			e.paypal.DeclineNext()
		}
		p, err := e.svc.Charge(ctx, name, chargeReq("INV-400", 1, "15.00", "USD"))
		if err != nil || p.Status != provider.StatusFailed || p.FailureCode == "" {
			t.Fatalf("decline: %+v %v", p, err)
		}
		again, err := e.svc.Charge(ctx, name, chargeReq("INV-400", 1, "15.00", "USD"))
		if err != nil || again.ID != p.ID || again.Status != provider.StatusFailed {
			t.Fatalf("retry of a declined attempt: %+v %v", again, err)
		}
		posts := countPosts(e, name)
		if posts != 1 {
			t.Fatalf("a declined attempt was sent %d times, want 1", posts)
		}
		next, err := e.svc.Charge(ctx, name, chargeReq("INV-400", 2, "15.00", "USD"))
		if err != nil || next.Status != provider.StatusSucceeded || next.Attempt != 2 {
			t.Fatalf("attempt 2: %+v %v", next, err)
		}
	})
}

func TestChargeValidation(t *testing.T) {
	e := newEnv(t)
	req := chargeReq("INV-500", 1, "1.001", "USD")
	req.IdempotencyKey = "whatever"
	_, err := e.svc.Charge(context.Background(), provider.Stripe, req)
	if err == nil || !containsAll(err.Error(), "idempotency_key: must be", "amount: 1.001") {
		t.Fatalf("validation: %v", err)
	}
	if _, err := e.svc.Charge(context.Background(), "adyen", chargeReq("INV-500", 1, "1.00", "USD")); err == nil {
		t.Fatal("unregistered provider accepted")
	}
	if n := countPosts(e, provider.Stripe); n != 0 {
		t.Fatalf("invalid charges reached the provider: %d", n)
	}
}

func TestResolvePendingSweep(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, inv := range []string{"INV-360", "INV-361"} {
		e.receivable(t, inv, "5.00", "USD")
		e.stripe.InjectFault(stfake.Fault{Path: "/v1/payment_intents", Status: 500, AfterExecute: true})
		if p, _ := e.svc.Charge(ctx, provider.Stripe, chargeReq(inv, 1, "5.00", "USD")); p.Status != provider.StatusPending {
			t.Fatalf("%s: %+v", inv, p)
		}
	}
	asked := 0
	customer := func(_ context.Context, p payment.Payment) (provider.Customer, error) {
		asked++
		return chargeReq(p.InvoiceID, p.Attempt, "5.00", "USD").Customer, nil
	}
	done, err := e.svc.ResolvePending(ctx, time.Now().Add(time.Second), 10, customer)
	if err != nil || len(done) != 2 || done[0].Status != provider.StatusSucceeded || done[1].Status != provider.StatusSucceeded {
		t.Fatalf("sweep: %+v %v", done, err)
	}
	// A second sweep finds nothing left (already done).
	done, err = e.svc.ResolvePending(ctx, time.Now().Add(time.Second), 10, customer)
	if err != nil || len(done) != 0 || asked != 2 {
		t.Fatalf("second sweep: %+v %v (asked %d)", done, err, asked)
	}
	if n := e.executedCreates(provider.Stripe); n != 2 {
		t.Fatalf("provider made %d charges, want 2", n)
	}
}

func TestConcurrentChargesWithOneKeyChargeOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.receivable(t, "INV-370", "33.00", "USD")
	var wg sync.WaitGroup
	results := make([]payment.Payment, 6)
	errs := make([]error, 6)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = e.svc.Charge(ctx, provider.Stripe, chargeReq("INV-370", 1, "33.00", "USD"))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
		if results[i].ID != results[0].ID || results[i].Status != provider.StatusSucceeded || results[i].ProviderID != results[0].ProviderID {
			t.Fatalf("caller %d: %+v vs %+v", i, results[i], results[0])
		}
	}
	if n := e.executedCreates(provider.Stripe); n != 1 {
		t.Fatalf("provider made %d charges, want 1", n)
	}
}
