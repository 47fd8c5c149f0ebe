package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

type namedOnly struct{ n Name }

func (p namedOnly) Name() Name { return p.n }
func (namedOnly) Charge(context.Context, ChargeRequest) (Charge, error) {
	return Charge{}, nil
}
func (namedOnly) LookupCharge(context.Context, string, string, time.Time) (Charge, bool, error) {
	return Charge{}, false, nil
}
func (namedOnly) Refund(context.Context, RefundRequest) (Refund, error) { return Refund{}, nil }
func (namedOnly) ListCaptured(context.Context, time.Time, time.Time) ([]Captured, error) {
	return nil, nil
}

func TestChoose(t *testing.T) {
	r := NewRegistry()
	r.Register(namedOnly{Stripe}, "USD", "EUR")
	r.Register(namedOnly{PayPal})
	r.Register(namedOnly{Bank}, "EUR", "CHF")
	if err := r.SetFallback("CHF", Bank); err != nil {
		t.Fatal(err)
	}
	if err := r.SetFallback("USD", Stripe); err != nil {
		t.Fatal(err)
	}
	if err := r.SetFallback("JPY", Bank); err == nil || !strings.Contains(err.Error(), "does not accept JPY") {
		t.Fatalf("fallback to a provider refusing the currency: got %v", err)
	}
	if err := r.SetFallback("USD", "adyen"); err == nil {
		t.Fatal("fallback to an unregistered provider accepted")
	}
	cases := []struct {
		pref    Name
		cur     string
		want    Name
		wantErr string
	}{
		{Stripe, "USD", Stripe, ""},
		{PayPal, "JPY", PayPal, ""},
		{Stripe, "CHF", Bank, ""},    // preference does not accept CHF: fallback
		{"", "USD", Stripe, ""},      // no preference: fallback
		{"adyen", "USD", Stripe, ""}, // unknown preference: fallback
		{Stripe, "GBP", "", "no fallback for GBP"},
		{"", "GBP", "", "no customer preference"},
	}
	for _, c := range cases {
		p, err := r.Choose(c.pref, moneyCur(c.cur))
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("Choose(%q,%s): error %v, want %q", c.pref, c.cur, err, c.wantErr)
			}
			continue
		}
		if err != nil || p.Name() != c.want {
			t.Errorf("Choose(%q,%s) = %v, %v; want %s", c.pref, c.cur, p, err, c.want)
		}
	}
}

func TestChargeRequestValidate(t *testing.T) {
	ok := ChargeRequest{InvoiceID: "inv_1", Attempt: 2, IdempotencyKey: "invoice:inv_1:charge:2", Amount: decimal.RequireFromString("10.50"), Currency: "USD"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid request refused: %v", err)
	}
	bad := ChargeRequest{InvoiceID: "inv_1", Attempt: 2, IdempotencyKey: "invoice:inv_1:charge:1", Amount: decimal.RequireFromString("10.505"), Currency: "USD"}
	err := bad.Validate()
	for _, want := range []string{"idempotency_key: must be \"invoice:inv_1:charge:2\"", "amount: 10.505 has more decimals"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v; want it to contain %q", err, want)
		}
	}
	err = ChargeRequest{Currency: "XXX", Amount: decimal.Zero}.Validate()
	for _, want := range []string{"invoice_id: is required", "attempt: must be at least 1", "idempotency_key: is required", "currency: \"XXX\"", "amount: must be positive"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v; want it to contain %q", err, want)
		}
	}
	if got := ChargeKey("inv_9", 3); got != "invoice:inv_9:charge:3" {
		t.Errorf("ChargeKey = %q", got)
	}
}

func moneyCur(s string) money.Currency { return money.Currency(s) }
