// Package gateway builds the configured payment providers, their registry with fallbacks per
// currency, and their webhook decoders, for the API, the worker and `revhub dev`.
package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/revhub/revhub/connectors/paypal"
	"github.com/revhub/revhub/connectors/provider"
	rstripe "github.com/revhub/revhub/connectors/stripe"
	"github.com/revhub/revhub/internal/money"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/internal/payment/webhook"
)

// Config says which providers are enabled and how to reach them; secrets are never logged.
// A provider is enabled when its credentials are set.
type Config struct {
	StripeAPIKey        string // "sk_..."; empty disables Stripe
	StripeBaseURL       string // empty: api.stripe.com; dev/tests: the Stripe fake layer
	StripeWebhookSecret string // "whsec_..." of the webhook endpoint
	StripeCurrencies    []money.Currency

	PayPalBaseURL    string // paypal.SandboxURL, paypal.LiveURL or the fake
	PayPalClientID   string // empty disables PayPal
	PayPalSecret     string
	PayPalWebhookID  string
	PayPalCurrencies []money.Currency

	Fallbacks  map[money.Currency]provider.Name // provider per currency when the customer has no usable choice
	HTTPClient *http.Client                     // optional
}

// Gateway is the set of configured providers.
type Gateway struct {
	Registry *provider.Registry
	Stripe   payment.Decoder // nil when Stripe is not configured
	PayPal   payment.Decoder // nil when PayPal is not configured
}

// New validates cfg (every problem at once) and builds the providers.
func New(cfg Config, log *slog.Logger) (*Gateway, error) {
	var errs []error
	if cfg.StripeAPIKey != "" && cfg.StripeWebhookSecret == "" {
		errs = append(errs, errors.New("stripe_webhook_secret: is required when Stripe is enabled"))
	}
	if cfg.PayPalClientID != "" {
		if cfg.PayPalSecret == "" {
			errs = append(errs, errors.New("paypal_secret: is required when PayPal is enabled"))
		}
		if cfg.PayPalBaseURL == "" {
			errs = append(errs, errors.New("paypal_base_url: is required when PayPal is enabled"))
		}
		if cfg.PayPalWebhookID == "" {
			errs = append(errs, errors.New("paypal_webhook_id: is required when PayPal is enabled"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("payment gateway: %w", err)
	}
	g := &Gateway{Registry: provider.NewRegistry()}
	if cfg.StripeAPIKey != "" {
		c, err := rstripe.New(rstripe.Config{APIKey: cfg.StripeAPIKey, BaseURL: cfg.StripeBaseURL, HTTPClient: cfg.HTTPClient})
		if err != nil {
			return nil, fmt.Errorf("payment gateway: %w", err)
		}
		v, err := rstripe.NewVerifier(cfg.StripeWebhookSecret, 0)
		if err != nil {
			return nil, fmt.Errorf("payment gateway: %w", err)
		}
		g.Registry.Register(c, cfg.StripeCurrencies...)
		g.Stripe = webhook.Stripe{Verifier: v}
	}
	if cfg.PayPalClientID != "" {
		c, err := paypal.New(paypal.Config{BaseURL: cfg.PayPalBaseURL, ClientID: cfg.PayPalClientID, Secret: cfg.PayPalSecret,
			WebhookID: cfg.PayPalWebhookID, HTTPClient: cfg.HTTPClient, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("payment gateway: %w", err)
		}
		g.Registry.Register(paypal.NewProvider(c), cfg.PayPalCurrencies...)
		g.PayPal = webhook.PayPal{Client: c}
	}
	for cur, name := range cfg.Fallbacks {
		if err := g.Registry.SetFallback(cur, name); err != nil {
			errs = append(errs, fmt.Errorf("fallbacks.%s: %w", cur, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("payment gateway: %w", err)
	}
	return g, nil
}

// ParseFallbacks reads "USD=stripe,EUR=paypal" into a fallback map, naming every bad entry.
func ParseFallbacks(s string) (map[money.Currency]provider.Name, error) {
	out := map[money.Currency]provider.Name{}
	var errs []error
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		cur, name, ok := strings.Cut(part, "=")
		if !ok {
			errs = append(errs, fmt.Errorf("fallbacks[%d]: %q is not CURRENCY=provider", i, part))
			continue
		}
		c, err := money.ParseCurrency(cur)
		if err != nil {
			errs = append(errs, fmt.Errorf("fallbacks[%d]: %w", i, err))
			continue
		}
		n := provider.Name(strings.ToLower(strings.TrimSpace(name)))
		if n != provider.Stripe && n != provider.PayPal {
			errs = append(errs, fmt.Errorf("fallbacks[%d]: provider %q: must be stripe or paypal", i, name))
			continue
		}
		if _, dup := out[c]; dup {
			errs = append(errs, fmt.Errorf("fallbacks[%d]: %s appears twice", i, c))
			continue
		}
		out[c] = n
	}
	return out, errors.Join(errs...)
}

// ParseCurrencies reads "USD,EUR" (empty means every currency).
func ParseCurrencies(s string) ([]money.Currency, error) {
	var out []money.Currency
	var errs []error
	for i, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		c, err := money.ParseCurrency(part)
		if err != nil {
			errs = append(errs, fmt.Errorf("currencies[%d]: %w", i, err))
			continue
		}
		out = append(out, c)
	}
	return out, errors.Join(errs...)
}
