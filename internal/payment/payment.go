// Package payment records every money effect of collecting invoices (charges, refunds, bank
// transfers) with its idempotency key, resolves interrupted charges at the provider, applies
// provider webhooks exactly once, matches bank statement lines and reconciles with providers.
package payment

import (
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/money"
)

// Kind says what a payment record is.
type Kind string

// Payment kinds.
const (
	KindCharge   Kind = "charge"   // automatic collection through a provider
	KindRefund   Kind = "refund"   // money returned through a provider
	KindTransfer Kind = "transfer" // bank transfer received and matched from a statement line
)

// Payment is one recorded money effect.
type Payment struct {
	ID             int64
	IdempotencyKey string
	Kind           Kind
	Provider       provider.Name
	InvoiceID      string
	Attempt        int
	Amount         decimal.Decimal
	Currency       money.Currency
	Status         provider.Status
	ProviderID     string
	FailureCode    string
	FailureMessage string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CapturedAt     *time.Time
}

// Receivable is what an invoice asks to be paid, registered when the invoice is finalized.
type Receivable struct {
	InvoiceID  string
	CustomerID string
	Reference  string // remittance reference printed on the invoice (see Reference)
	Currency   money.Currency
	Amount     decimal.Decimal
}

// Validate reports every problem of r at once, naming each field.
func (r Receivable) Validate() error {
	var errs []error
	if r.InvoiceID == "" {
		errs = append(errs, errors.New("invoice_id: is required"))
	}
	if r.CustomerID == "" {
		errs = append(errs, errors.New("customer_id: is required"))
	}
	if !ValidReference(r.Reference) {
		errs = append(errs, fmt.Errorf("reference: %q is not a valid RF creditor reference (use Reference)", r.Reference))
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
