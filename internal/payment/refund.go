package payment

import (
	"context"
	"errors"
	"fmt"

	"github.com/revhub/revhub/connectors/provider"
)

// Refund returns money of a succeeded charge exactly once per req.IdempotencyKey
// (provider.RefundKey(invoice, n)): the pending refund record is written before the provider call
// and settled after it. Retrying a pending refund re-sends it under the same key, which the
// provider answers with the first refund (Stripe keeps keys 24 h, PayPal request ids at least 6 h).
func (s *Service) Refund(ctx context.Context, chargeKey string, req provider.RefundRequest) (Payment, error) {
	charge, err := GetByKey(ctx, s.pool, chargeKey)
	if err != nil {
		return Payment{}, fmt.Errorf("refund %s: charge: %w", req.IdempotencyKey, err)
	}
	var errs []error
	if req.IdempotencyKey == "" {
		errs = append(errs, errors.New("idempotency_key: is required"))
	}
	if charge.Kind != KindCharge || charge.Status != provider.StatusSucceeded {
		errs = append(errs, fmt.Errorf("charge: %s is a %s %s, only a succeeded charge can be refunded", chargeKey, charge.Status, charge.Kind))
	}
	if req.Currency != charge.Currency {
		errs = append(errs, fmt.Errorf("currency: %s differs from the charge's %s", req.Currency, charge.Currency))
	}
	if !req.Amount.IsPositive() || req.Amount.GreaterThan(charge.Amount) {
		errs = append(errs, fmt.Errorf("amount: %s must be positive and at most the charge's %s", req.Amount, charge.Amount))
	}
	if err := errors.Join(errs...); err != nil {
		return Payment{}, fmt.Errorf("refund %s: %w", req.IdempotencyKey, err)
	}
	prov, ok := s.providers.Get(charge.Provider)
	if !ok {
		return Payment{}, fmt.Errorf("refund %s: provider %q is not registered", req.IdempotencyKey, charge.Provider)
	}
	req.ChargeProviderID = charge.ProviderID
	want := Payment{IdempotencyKey: req.IdempotencyKey, Kind: KindRefund, Provider: charge.Provider, InvoiceID: charge.InvoiceID,
		Amount: req.Amount, Currency: req.Currency}
	rec, err := GetByKey(ctx, s.pool, req.IdempotencyKey)
	switch {
	case err == nil: // a retry
		if err := sameEffect(rec, want); err != nil {
			return Payment{}, err
		}
		if rec.Status != provider.StatusPending {
			return rec, nil // already done
		}
	case errors.Is(err, ErrNotFound):
		refunded, err := RefundedOf(ctx, s.pool, charge.Provider, charge.ProviderID)
		if err != nil {
			return Payment{}, err
		}
		if refunded.Add(req.Amount).GreaterThan(charge.Amount) {
			return Payment{}, fmt.Errorf("refund %s: amount: %s on top of %s already refunded exceeds the charge's %s", req.IdempotencyKey, req.Amount, refunded, charge.Amount)
		}
		var created bool
		if rec, created, err = InsertPending(ctx, s.pool, want); err != nil {
			return Payment{}, err
		}
		if !created { // a concurrent caller got there first
			if err := sameEffect(rec, want); err != nil {
				return Payment{}, err
			}
			if rec.Status != provider.StatusPending {
				return rec, nil
			}
		}
	default:
		return Payment{}, err
	}
	r, err := prov.Refund(ctx, req)
	if err != nil {
		return rec, fmt.Errorf("refund %s at %s (left pending, retry sends it under the same key): %w", req.IdempotencyKey, prov.Name(), err)
	}
	if !r.Amount.Equal(rec.Amount) || r.Currency != rec.Currency {
		return rec, fmt.Errorf("refund %s: provider %s answered %s %s for a recorded %s %s", rec.IdempotencyKey, prov.Name(), r.Amount, r.Currency, rec.Amount, rec.Currency)
	}
	p, _, err := Settle(ctx, s.pool, rec.IdempotencyKey, provider.Charge{Status: r.Status, ProviderID: charge.ProviderID + ":" + r.ProviderID})
	if err != nil {
		return rec, err
	}
	s.log.InfoContext(ctx, "refund recorded", "key", p.IdempotencyKey, "provider", p.Provider, "status", p.Status, "provider_id", p.ProviderID)
	return p, nil
}
