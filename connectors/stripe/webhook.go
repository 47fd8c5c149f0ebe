package stripe

import (
	"errors"
	"fmt"
	"time"

	stripe "github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
)

// Verifier checks Stripe-Signature headers with the endpoint's signing secret ("whsec_...").
type Verifier struct {
	secret    string
	tolerance time.Duration
}

// NewVerifier returns a Verifier; tolerance 0 means Stripe's default of 5 minutes.
func NewVerifier(secret string, tolerance time.Duration) (*Verifier, error) {
	if secret == "" {
		return nil, errors.New("stripe webhook: signing secret: is required")
	}
	if tolerance == 0 {
		tolerance = webhook.DefaultTolerance
	}
	return &Verifier{secret: secret, tolerance: tolerance}, nil
}

// Verify checks the signature and timestamp of payload and parses the event; it refuses events of
// another API version than stripe-go's. Deduplication by event id is the caller's job.
func (v *Verifier) Verify(payload []byte, signatureHeader string) (stripe.Event, error) {
	ev, err := webhook.ConstructEventWithOptions(payload, signatureHeader, v.secret, webhook.ConstructEventOptions{Tolerance: v.tolerance})
	if err != nil {
		return stripe.Event{}, fmt.Errorf("stripe webhook: %w", err)
	}
	return ev, nil
}
