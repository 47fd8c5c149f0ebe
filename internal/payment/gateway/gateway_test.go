package gateway

import (
	"strings"
	"testing"

	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/money"
)

func TestNew(t *testing.T) {
	_, err := New(Config{StripeAPIKey: "sk_test_1", PayPalClientID: "id"}, nil)
	for _, want := range []string{"stripe_webhook_secret: is required", "paypal_secret: is required", "paypal_base_url: is required", "paypal_webhook_id: is required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v; want %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "sk_test_1") {
		t.Fatal("a secret leaked into an error")
	}
	g, err := New(Config{StripeAPIKey: "sk_test_1", StripeWebhookSecret: "whsec_1", StripeCurrencies: []money.Currency{"USD"},
		PayPalClientID: "id", PayPalSecret: "s", PayPalBaseURL: "http://127.0.0.1:1", PayPalWebhookID: "WH",
		Fallbacks: map[money.Currency]provider.Name{"USD": provider.Stripe, "EUR": provider.PayPal}}, nil)
	if err != nil || g.Stripe == nil || g.PayPal == nil {
		t.Fatalf("%+v %v", g, err)
	}
	if p, err := g.Registry.Choose("", "EUR"); err != nil || p.Name() != provider.PayPal {
		t.Fatalf("EUR fallback: %v %v", p, err)
	}
	if p, err := g.Registry.Choose(provider.Stripe, "EUR"); err != nil || p.Name() != provider.PayPal {
		t.Fatalf("Stripe does not take EUR here: %v %v", p, err)
	}
	_, err = New(Config{Fallbacks: map[money.Currency]provider.Name{"USD": provider.Stripe}}, nil)
	if err == nil || !strings.Contains(err.Error(), "fallbacks.USD") {
		t.Fatalf("fallback to a disabled provider: %v", err)
	}
}

func TestParseFallbacks(t *testing.T) {
	got, err := ParseFallbacks(" usd=Stripe, EUR=paypal ,")
	if err != nil || got["USD"] != provider.Stripe || got["EUR"] != provider.PayPal || len(got) != 2 {
		t.Fatalf("%v %v", got, err)
	}
	_, err = ParseFallbacks("USD,XXX=stripe,EUR=adyen,USD=stripe,USD=paypal")
	for _, want := range []string{`fallbacks[0]: "USD" is not`, "fallbacks[1]: currency", `fallbacks[2]: provider "adyen"`, "fallbacks[4]: USD appears twice"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v; want %q", err, want)
		}
	}
	cs, err := ParseCurrencies("USD, eur")
	if err != nil || len(cs) != 2 || cs[1] != "EUR" {
		t.Fatalf("%v %v", cs, err)
	}
}
