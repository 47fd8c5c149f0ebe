package mappings

import (
	"encoding/json"
	"fmt"
	"time"

	stripe "github.com/stripe/stripe-go/v82"

	"github.com/revhub/revhub/connectors/provider"
	rstripe "github.com/revhub/revhub/connectors/stripe"
	"github.com/revhub/revhub/internal/money"
)

// StripeEvent translates a verified Stripe event into revhub's payment event:
// payment_intent.succeeded / .processing / .payment_failed and charge.refunded (whose amount is
// the running total refunded); every other type is provider.EventOther.
func StripeEvent(ev stripe.Event) (provider.Event, error) {
	out := provider.Event{Provider: provider.Stripe, ID: ev.ID, ProviderType: string(ev.Type), Type: provider.EventOther,
		OccurredAt: time.Unix(ev.Created, 0).UTC()}
	if ev.Data == nil {
		return out, fmt.Errorf("stripe event %s: data: is missing", ev.ID)
	}
	switch ev.Type {
	case "payment_intent.succeeded", "payment_intent.processing", "payment_intent.payment_failed":
		var pi stripe.PaymentIntent
		if err := json.Unmarshal(ev.Data.Raw, &pi); err != nil {
			return out, fmt.Errorf("stripe event %s: data.object: not a payment_intent: %w", ev.ID, err)
		}
		ch, err := rstripe.PaymentIntentCharge(&pi)
		if err != nil {
			return out, fmt.Errorf("stripe event %s: data.object: %w", ev.ID, err)
		}
		out.ChargeProviderID, out.Key, out.InvoiceID = pi.ID, ch.IdempotencyKey, ch.InvoiceID
		out.Amount, out.Currency = ch.Amount, ch.Currency
		out.FailureCode, out.FailureMessage = ch.FailureCode, ch.FailureMessage
		switch ev.Type {
		case "payment_intent.succeeded":
			out.Type = provider.EventChargeSucceeded
			out.OccurredAt = time.Unix(pi.Created, 0).UTC() // the capture time revhub records
		case "payment_intent.processing":
			out.Type = provider.EventChargePending
		default:
			out.Type = provider.EventChargeFailed
			if out.FailureCode == "" {
				out.FailureCode = "payment_failed"
			}
		}
	case "charge.refunded":
		var ch stripe.Charge
		if err := json.Unmarshal(ev.Data.Raw, &ch); err != nil {
			return out, fmt.Errorf("stripe event %s: data.object: not a charge: %w", ev.ID, err)
		}
		if ch.PaymentIntent == nil || ch.PaymentIntent.ID == "" {
			return out, fmt.Errorf("stripe event %s: data.object.payment_intent: is required", ev.ID)
		}
		cur, err := money.ParseCurrency(string(ch.Currency))
		if err != nil {
			return out, fmt.Errorf("stripe event %s: data.object.currency: %w", ev.ID, err)
		}
		if ch.AmountRefunded < 0 {
			return out, fmt.Errorf("stripe event %s: data.object.amount_refunded: must not be negative, got %d", ev.ID, ch.AmountRefunded)
		}
		amt, err := money.MinorToDecimal(ch.AmountRefunded, cur)
		if err != nil {
			return out, err
		}
		out.Type, out.ChargeProviderID, out.RefundedTotal = provider.EventChargeRefunded, ch.PaymentIntent.ID, true
		out.Amount, out.Currency = amt, cur
		out.InvoiceID = ch.Metadata[rstripe.MetaInvoiceID]
	}
	return out, nil
}
