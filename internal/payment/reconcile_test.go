package payment_test

import (
	"context"
	"testing"
	"time"

	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/payment"
)

func TestReconcile(t *testing.T) {
	forBoth(t, func(t *testing.T, e *env, name provider.Name) {
		ctx := context.Background()
		from := time.Now().Add(-time.Hour)
		e.receivable(t, "INV-1001", "10.00", "USD")
		e.receivable(t, "INV-1002", "20.00", "USD")
		for _, inv := range []string{"INV-1001", "INV-1002"} {
			if _, err := e.svc.Charge(ctx, name, chargeReq(inv, 1, map[string]string{"INV-1001": "10.00", "INV-1002": "20.00"}[inv], "USD")); err != nil {
				t.Fatal(err)
			}
		}
		to := time.Now().Add(time.Hour)
		res, err := e.svc.Reconcile(ctx, name, from, to)
		if err != nil || !res.Balanced() || len(res.Matched) != 2 {
			t.Fatalf("clean period: %+v %v", res, err)
		}
		// A capture made at the provider that revhub never recorded (e.g. from the dashboard) ...
		prov, _ := map[provider.Name]provider.Provider{provider.Stripe: e.stripeC, provider.PayPal: e.paypalP}[name], true
		stray, err := prov.Charge(ctx, chargeReq("INV-1003", 1, "30.00", "USD"))
		if err != nil {
			t.Fatal(err)
		}
		// ... and a payment revhub recorded that the provider does not know.
		if _, _, err := payment.InsertSettled(ctx, e.db.Pool, payment.Payment{IdempotencyKey: "invoice:INV-1004:charge:1", Kind: payment.KindCharge,
			Provider: name, InvoiceID: "INV-1004", Amount: dec("40.00"), Currency: "USD", ProviderID: "ghost-1"}, time.Now()); err != nil {
			t.Fatal(err)
		}
		for range 2 { // reconciling twice records each exception once
			res, err = e.svc.Reconcile(ctx, name, from, to)
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(res.Matched) != 2 || len(res.Exceptions) != 2 {
			t.Fatalf("matched %d, exceptions %+v", len(res.Matched), res.Exceptions)
		}
		kinds := map[string]string{}
		for _, x := range res.Exceptions {
			kinds[x.Kind] = x.Source
		}
		if kinds[payment.ExceptionMissingAtProvider] != "invoice:INV-1004:charge:1" || kinds[payment.ExceptionMissingInRevhub] != stray.ProviderID {
			t.Fatalf("exceptions %+v", res.Exceptions)
		}
		stored, _ := payment.ListExceptions(ctx, e.db.Pool, name)
		if len(stored) != 2 {
			t.Fatalf("stored exceptions %d, want 2", len(stored))
		}
	})
}

func TestMatchAmountMismatch(t *testing.T) {
	ours := []payment.Payment{{IdempotencyKey: "k1", ProviderID: "p1", Amount: dec("10.00"), Currency: "USD", Kind: payment.KindCharge}}
	theirs := []provider.Captured{{ProviderID: "p1", Amount: dec("9.99"), Currency: "USD"}}
	res := payment.Match(provider.Stripe, ours, theirs)
	if len(res.Matched) != 0 || len(res.Exceptions) != 1 || res.Exceptions[0].Kind != payment.ExceptionAmountMismatch || !res.Exceptions[0].Amount.Equal(dec("-0.01")) {
		t.Fatalf("%+v", res)
	}
	// One to one: a provider item cannot match two recorded payments.
	ours = append(ours, payment.Payment{IdempotencyKey: "k2", ProviderID: "p1", Amount: dec("9.99"), Currency: "USD"})
	theirs[0].Amount = dec("10.00")
	res = payment.Match(provider.Stripe, ours, theirs)
	if len(res.Matched) != 1 || len(res.Exceptions) != 1 || res.Exceptions[0].Kind != payment.ExceptionMissingAtProvider || res.Exceptions[0].Source != "k2" {
		t.Fatalf("one to one: %+v", res)
	}
}

func TestBankReconcile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.receivable(t, "INV-1100", "100.00", "EUR")
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	if _, err := e.svc.MatchLine(ctx, payment.StatementLine{Account: "DE89", TransactionID: "T1", BookedOn: day, Amount: dec("100.00"), Currency: "EUR", Reference: r.Reference}); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Reconcile(ctx, provider.Bank, day, day.AddDate(0, 0, 1))
	if err != nil || !res.Balanced() || len(res.Matched) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
}
