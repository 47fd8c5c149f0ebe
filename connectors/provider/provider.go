// Package provider defines the one interface every payment provider (Stripe, PayPal, bank
// transfer) implements, the idempotency keys of money effects, and provider choice per customer.
package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// Name identifies a payment provider.
type Name string

// The providers revhub knows.
const (
	Stripe Name = "stripe"
	PayPal Name = "paypal"
	Bank   Name = "bank"
)

// Status is the provider-neutral state of a charge or refund.
type Status string

// Charge and refund states.
const (
	StatusSucceeded Status = "succeeded" // money captured
	StatusPending   Status = "pending"   // accepted but not yet captured (e.g. PayPal PENDING capture)
	StatusFailed    Status = "failed"    // declined or otherwise refused; nothing captured
)

// ErrNoPaymentMethod means the customer has no stored payment method the provider can charge unattended.
var ErrNoPaymentMethod = errors.New("customer has no stored payment method for unattended charges")

// Customer is the payer as known to a provider.
type Customer struct {
	ID               string // revhub customer id
	ProviderCustomer string // provider's customer id, e.g. Stripe "cus_..."
	PaymentMethod    string // stored payment method, e.g. Stripe "pm_..." or a PayPal vault id
}

// ChargeRequest asks a provider to collect an invoice's amount.
type ChargeRequest struct {
	InvoiceID      string
	Attempt        int
	IdempotencyKey string // ChargeKey(InvoiceID, Attempt); sent to the provider as its idempotency key
	Customer       Customer
	Amount         decimal.Decimal // rounded to Currency's minor unit, positive
	Currency       money.Currency
}

// Validate reports every problem of r at once, naming each field.
func (r ChargeRequest) Validate() error {
	var errs []error
	if strings.TrimSpace(r.InvoiceID) == "" {
		errs = append(errs, errors.New("invoice_id: is required"))
	}
	if r.Attempt < 1 {
		errs = append(errs, fmt.Errorf("attempt: must be at least 1, got %d", r.Attempt))
	}
	if r.IdempotencyKey == "" {
		errs = append(errs, errors.New("idempotency_key: is required"))
	} else if r.InvoiceID != "" && r.Attempt >= 1 && r.IdempotencyKey != ChargeKey(r.InvoiceID, r.Attempt) {
		errs = append(errs, fmt.Errorf("idempotency_key: must be %q, got %q", ChargeKey(r.InvoiceID, r.Attempt), r.IdempotencyKey))
	}
	if !r.Currency.Valid() {
		errs = append(errs, fmt.Errorf("currency: %q is not a supported ISO 4217 code", string(r.Currency)))
	} else if !money.IsRounded(r.Amount, r.Currency) {
		errs = append(errs, fmt.Errorf("amount: %s has more decimals than %s allows", r.Amount, r.Currency))
	}
	if !r.Amount.IsPositive() {
		errs = append(errs, fmt.Errorf("amount: must be positive, got %s", r.Amount))
	}
	return errors.Join(errs...)
}

// Charge is a provider's answer about one charge.
type Charge struct {
	Provider       Name
	ProviderID     string // Stripe PaymentIntent id, PayPal capture id
	IdempotencyKey string
	InvoiceID      string
	Status         Status
	Amount         decimal.Decimal
	Currency       money.Currency
	FailureCode    string // provider's decline or error code when Status is failed
	FailureMessage string
	CapturedAt     time.Time // zero unless succeeded
}

// RefundRequest asks a provider to return money of a succeeded charge.
type RefundRequest struct {
	ChargeProviderID string // the charge's ProviderID
	IdempotencyKey   string // RefundKey(invoiceID, n)
	Amount           decimal.Decimal
	Currency         money.Currency
	Reason           string
}

// Refund is a provider's answer about one refund.
type Refund struct {
	Provider         Name
	ProviderID       string
	ChargeProviderID string
	IdempotencyKey   string
	Status           Status
	Amount           decimal.Decimal
	Currency         money.Currency
}

// Captured is one captured payment as the provider's books show it, for reconciliation.
type Captured struct {
	Provider   Name
	ProviderID string
	InvoiceID  string // as carried in the provider's metadata, may be empty
	Key        string // idempotency key carried in metadata, may be empty
	Amount     decimal.Decimal
	Currency   money.Currency
	CapturedAt time.Time
}

// Provider is what revhub needs from a payment provider.
type Provider interface {
	// Name returns the provider's name.
	Name() Name
	// Charge collects req.Amount; a decline is a failed Charge with a nil error, a transport
	// problem is an error (the outcome is then unknown and must be resolved by LookupCharge).
	Charge(ctx context.Context, req ChargeRequest) (Charge, error)
	// LookupCharge finds the charge made under key (for invoiceID) without creating one; found
	// is false when the provider has no such charge.
	LookupCharge(ctx context.Context, key, invoiceID string, since time.Time) (c Charge, found bool, err error)
	// Refund returns money of a succeeded charge, idempotently under req.IdempotencyKey.
	Refund(ctx context.Context, req RefundRequest) (Refund, error)
	// ListCaptured lists payments captured in [from, to), for reconciliation.
	ListCaptured(ctx context.Context, from, to time.Time) ([]Captured, error)
}

// ChargeKey is the idempotency key of the attempt-th automatic charge of an invoice.
func ChargeKey(invoiceID string, attempt int) string {
	return fmt.Sprintf("invoice:%s:charge:%d", invoiceID, attempt)
}

// RefundKey is the idempotency key of the n-th refund of an invoice.
func RefundKey(invoiceID string, n int) string {
	return fmt.Sprintf("invoice:%s:refund:%d", invoiceID, n)
}
