package provider

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// EventType is the provider-neutral meaning of a webhook event.
type EventType string

// Webhook event meanings revhub acts on.
const (
	EventChargeSucceeded EventType = "charge.succeeded"
	EventChargePending   EventType = "charge.pending"
	EventChargeFailed    EventType = "charge.failed"
	EventChargeRefunded  EventType = "charge.refunded"
	EventOther           EventType = "other" // verified but of no interest: acknowledged, nothing changes
)

// Event is a verified provider webhook event translated to revhub's terms.
type Event struct {
	Provider         Name
	ID               string // provider's event id: redeliveries carry the same id
	Type             EventType
	ProviderType     string          // provider's own event type, e.g. "payment_intent.succeeded"
	ChargeProviderID string          // the charge the event is about (PaymentIntent id, PayPal capture id)
	RefundProviderID string          // for refunds
	Key              string          // idempotency key of the charge, from metadata / custom_id, may be empty
	InvoiceID        string          // from metadata / invoice_id, may be empty
	Amount           decimal.Decimal // charge amount, or refund amount
	Currency         money.Currency
	RefundedTotal    bool // Amount is the running total refunded on the charge (Stripe charge.refunded)
	FailureCode      string
	FailureMessage   string
	OccurredAt       time.Time
}
