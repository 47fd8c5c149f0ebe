package paypal

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/money"
)

// Provider adapts a Client to provider.Provider.
//
// An automatic B2B charge uses the customer's PayPal vault id: the order is created with
// payment_source.paypal.vault_id, which PayPal treats as already approved and captures at once,
// so one POST /v2/checkout/orders with PayPal-Request-Id = the business key is the whole charge.
// The purchase unit carries invoice_id = the invoice id and custom_id = the idempotency key, which
// Transaction Search returns, so a lost answer is found again without charging.
type Provider struct {
	c *Client
}

// NewProvider wraps c.
func NewProvider(c *Client) *Provider { return &Provider{c: c} }

// Name returns provider.PayPal.
func (p *Provider) Name() provider.Name { return provider.PayPal }

// Charge captures req.Amount from the customer's vaulted PayPal payment method.
func (p *Provider) Charge(ctx context.Context, req provider.ChargeRequest) (provider.Charge, error) {
	if err := req.Validate(); err != nil {
		return provider.Charge{}, fmt.Errorf("paypal charge: %w", err)
	}
	if req.Customer.PaymentMethod == "" {
		return provider.Charge{}, fmt.Errorf("paypal charge %s: customer %s: %w", req.IdempotencyKey, req.Customer.ID, provider.ErrNoPaymentMethod)
	}
	n, _ := req.Currency.MinorUnits()
	o, err := p.c.CreateOrder(ctx, req.IdempotencyKey, CreateOrderRequest{
		Intent: "CAPTURE",
		PurchaseUnits: []PurchaseUnit{{ReferenceID: "default", InvoiceID: req.InvoiceID, CustomID: req.IdempotencyKey,
			Description: "Invoice " + req.InvoiceID, Amount: Amount{CurrencyCode: req.Currency.String(), Value: req.Amount.StringFixed(n)}}},
		PaymentSource: &PaymentSource{PayPal: &VaultRef{VaultID: req.Customer.PaymentMethod}},
	})
	if IsIssue(err, "INSTRUMENT_DECLINED") {
		return provider.Charge{Provider: provider.PayPal, IdempotencyKey: req.IdempotencyKey, InvoiceID: req.InvoiceID,
			Status: provider.StatusFailed, Amount: req.Amount, Currency: req.Currency, FailureCode: "INSTRUMENT_DECLINED",
			FailureMessage: "PayPal declined the vaulted payment method"}, nil
	}
	if err != nil {
		return provider.Charge{}, fmt.Errorf("paypal charge %s: %w", req.IdempotencyKey, err)
	}
	if o.Status == "APPROVED" {
		if o, err = p.c.CaptureOrder(ctx, req.IdempotencyKey+":capture", o.ID); err != nil {
			return provider.Charge{}, fmt.Errorf("paypal charge %s: capture order %s: %w", req.IdempotencyKey, o.ID, err)
		}
	}
	if o.Status != "COMPLETED" || len(o.PurchaseUnits) == 0 || o.PurchaseUnits[0].Payments == nil || len(o.PurchaseUnits[0].Payments.Captures) == 0 {
		return provider.Charge{}, fmt.Errorf("paypal charge %s: order %s is %s without a capture", req.IdempotencyKey, o.ID, o.Status)
	}
	cp := o.PurchaseUnits[0].Payments.Captures[0]
	if cp.CustomID == "" {
		cp.CustomID = req.IdempotencyKey
	}
	if cp.InvoiceID == "" {
		cp.InvoiceID = req.InvoiceID
	}
	return CaptureCharge(cp)
}

// LookupCharge finds the capture made under key through Transaction Search (custom_field = key),
// then reads the capture for its current status.
func (p *Provider) LookupCharge(ctx context.Context, key, invoiceID string, since time.Time) (provider.Charge, bool, error) {
	now := time.Now()
	if since.Before(now.Add(-31 * 24 * time.Hour)) {
		since = now.Add(-31 * 24 * time.Hour)
	}
	txs, err := p.c.Transactions(ctx, since, now.Add(time.Minute))
	if err != nil {
		return provider.Charge{}, false, fmt.Errorf("paypal lookup %s: %w", key, err)
	}
	for _, t := range txs {
		if t.EventCode != "T0006" || t.CustomField != key {
			continue
		}
		cp, err := p.c.GetCapture(ctx, t.TransactionID)
		if err != nil {
			return provider.Charge{}, false, fmt.Errorf("paypal lookup %s: capture %s: %w", key, t.TransactionID, err)
		}
		ch, err := CaptureCharge(cp)
		return ch, err == nil, err
	}
	return provider.Charge{}, false, nil
}

// Refund refunds part of a capture with PayPal-Request-Id = req.IdempotencyKey.
func (p *Provider) Refund(ctx context.Context, req provider.RefundRequest) (provider.Refund, error) {
	n, err := req.Currency.MinorUnits()
	if err != nil {
		return provider.Refund{}, fmt.Errorf("paypal refund %s: %w", req.IdempotencyKey, err)
	}
	r, err := p.c.RefundCapture(ctx, req.IdempotencyKey, req.ChargeProviderID, Amount{CurrencyCode: req.Currency.String(), Value: req.Amount.StringFixed(n)}, "")
	if err != nil {
		return provider.Refund{}, fmt.Errorf("paypal refund %s: %w", req.IdempotencyKey, err)
	}
	amt, cur, err := ParseAmount(r.Amount)
	if err != nil {
		return provider.Refund{}, fmt.Errorf("paypal refund %s: %w", r.ID, err)
	}
	st := provider.StatusPending
	switch r.Status {
	case "COMPLETED":
		st = provider.StatusSucceeded
	case "CANCELLED", "FAILED":
		st = provider.StatusFailed
	}
	return provider.Refund{Provider: provider.PayPal, ProviderID: r.ID, ChargeProviderID: req.ChargeProviderID,
		IdempotencyKey: req.IdempotencyKey, Status: st, Amount: amt, Currency: cur}, nil
}

// ListCaptured lists successful checkout captures (T0006, status S) initiated in [from, to),
// searching in windows of at most 31 days as PayPal requires.
func (p *Provider) ListCaptured(ctx context.Context, from, to time.Time) ([]provider.Captured, error) {
	var out []provider.Captured
	for lo := from; lo.Before(to); lo = lo.Add(31 * 24 * time.Hour) {
		hi := lo.Add(31 * 24 * time.Hour)
		if hi.After(to) {
			hi = to
		}
		txs, err := p.c.Transactions(ctx, lo, hi)
		if err != nil {
			return nil, fmt.Errorf("paypal list captured: %w", err)
		}
		for _, t := range txs {
			at, err := time.Parse(time.RFC3339, t.InitiationDate)
			if err != nil {
				return nil, fmt.Errorf("paypal transaction %s: transaction_initiation_date %q: %w", t.TransactionID, t.InitiationDate, err)
			}
			if t.EventCode != "T0006" || t.Status != "S" || at.Before(lo) || !at.Before(hi) {
				continue
			}
			amt, cur, err := ParseAmount(t.Amount)
			if err != nil {
				return nil, fmt.Errorf("paypal transaction %s: %w", t.TransactionID, err)
			}
			out = append(out, provider.Captured{Provider: provider.PayPal, ProviderID: t.TransactionID, InvoiceID: t.InvoiceID,
				Key: t.CustomField, Amount: amt, Currency: cur, CapturedAt: at})
		}
	}
	return out, nil
}

// CaptureCharge translates a PayPal capture into revhub's charge outcome.
func CaptureCharge(cp Capture) (provider.Charge, error) {
	amt, cur, err := ParseAmount(cp.Amount)
	if err != nil {
		return provider.Charge{}, fmt.Errorf("paypal capture %s: %w", cp.ID, err)
	}
	ch := provider.Charge{Provider: provider.PayPal, ProviderID: cp.ID, IdempotencyKey: cp.CustomID, InvoiceID: cp.InvoiceID, Amount: amt, Currency: cur}
	switch cp.Status {
	case "COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED":
		ch.Status = provider.StatusSucceeded
		if t, err := time.Parse(time.RFC3339, cp.CreateTime); err == nil {
			ch.CapturedAt = t.UTC()
		}
	case "PENDING":
		ch.Status = provider.StatusPending
	case "DECLINED", "FAILED":
		ch.Status, ch.FailureCode = provider.StatusFailed, cp.Status
		if cp.StatusDetails != nil {
			ch.FailureMessage = cp.StatusDetails.Reason
		}
	default:
		return provider.Charge{}, fmt.Errorf("paypal capture %s: unknown status %q", cp.ID, cp.Status)
	}
	return ch, nil
}

// ParseAmount parses PayPal's decimal-string money, refusing more decimals than the currency has.
func ParseAmount(a Amount) (decimal.Decimal, money.Currency, error) {
	cur, err := money.ParseCurrency(a.CurrencyCode)
	if err != nil {
		return decimal.Decimal{}, "", fmt.Errorf("amount.currency_code: %w", err)
	}
	v, err := decimal.NewFromString(strings.TrimSpace(a.Value))
	if err != nil {
		return decimal.Decimal{}, "", fmt.Errorf("amount.value %q: not a decimal", a.Value)
	}
	if !money.IsRounded(v, cur) {
		return decimal.Decimal{}, "", fmt.Errorf("amount.value %q: more decimals than %s allows", a.Value, cur)
	}
	return v, cur, nil
}
