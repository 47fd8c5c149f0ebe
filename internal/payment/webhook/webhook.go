// Package webhook holds the payment.Decoder of each provider: the connector's signature check
// followed by the pure mapping of the event into revhub's terms.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/revhub/revhub/connectors/paypal"
	"github.com/revhub/revhub/connectors/provider"
	rstripe "github.com/revhub/revhub/connectors/stripe"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/mappings"
)

// Stripe decodes Stripe deliveries checked against the endpoint's signing secret.
type Stripe struct {
	Verifier *rstripe.Verifier
}

// Provider returns provider.Stripe.
func (Stripe) Provider() provider.Name { return provider.Stripe }

// Decode verifies the Stripe-Signature header and maps the event.
func (d Stripe) Decode(_ context.Context, h http.Header, body []byte) (provider.Event, error) {
	ev, err := d.Verifier.Verify(body, h.Get("Stripe-Signature"))
	if err != nil {
		return provider.Event{Provider: provider.Stripe}, fmt.Errorf("%w: %w", payment.ErrBadSignature, err)
	}
	return mappings.StripeEvent(ev)
}

// PayPal decodes PayPal deliveries verified by PayPal's verify-webhook-signature endpoint.
type PayPal struct {
	Client *paypal.Client
}

// Provider returns provider.PayPal.
func (PayPal) Provider() provider.Name { return provider.PayPal }

// Decode asks PayPal to verify the delivery and maps the event. Failing to reach PayPal is not a
// bad signature: it is returned as is, so the delivery is answered 5xx and PayPal retries.
func (d PayPal) Decode(ctx context.Context, h http.Header, body []byte) (provider.Event, error) {
	if err := d.Client.VerifyWebhook(ctx, h, body); err != nil {
		if isBadSignature(err) {
			return provider.Event{Provider: provider.PayPal}, fmt.Errorf("%w: %w", payment.ErrBadSignature, err)
		}
		return provider.Event{Provider: provider.PayPal}, fmt.Errorf("%w: %w", payment.ErrVerifyUnavailable, err)
	}
	return mappings.PayPalEvent(body)
}

func isBadSignature(err error) bool {
	return errors.Is(err, paypal.ErrBadSignature)
}
