package payment

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/dbtest"
)

// noMethod is a provider whose customers have no stored payment method.
type noMethod struct{ calls int }

func (p *noMethod) Name() provider.Name { return provider.Stripe }
func (p *noMethod) Charge(_ context.Context, req provider.ChargeRequest) (provider.Charge, error) {
	p.calls++
	return provider.Charge{}, fmt.Errorf("customer %s: %w", req.Customer.ID, provider.ErrNoPaymentMethod)
}
func (p *noMethod) LookupCharge(context.Context, string, string, time.Time) (provider.Charge, bool, error) {
	return provider.Charge{}, false, nil
}
func (p *noMethod) Refund(context.Context, provider.RefundRequest) (provider.Refund, error) {
	return provider.Refund{}, nil
}
func (p *noMethod) ListCaptured(context.Context, time.Time, time.Time) ([]provider.Captured, error) {
	return nil, nil
}

// TestChargeWithoutPaymentMethodFailsDefinitely: nothing was sent, so the record settles as failed
// (for dunning) instead of staying pending for a lookup that can never find anything; a retry of the
// same attempt returns the failure without calling the provider again.
func TestChargeWithoutPaymentMethodFailsDefinitely(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	prov := &noMethod{}
	reg := provider.NewRegistry()
	reg.Register(prov)
	svc := NewService(d.Pool, reg, nil)
	req := provider.ChargeRequest{InvoiceID: "inv_nm", Attempt: 1, IdempotencyKey: provider.ChargeKey("inv_nm", 1),
		Customer: provider.Customer{ID: "cus_nm"}, Amount: decimal.RequireFromString("10.00"), Currency: "USD"}
	for range 2 {
		p, err := svc.Charge(ctx, provider.Stripe, req)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != provider.StatusFailed || p.FailureCode != "no_payment_method" {
			t.Fatalf("payment = %+v", p)
		}
	}
	if prov.calls != 1 {
		t.Fatalf("provider called %d times, want 1", prov.calls)
	}
}
