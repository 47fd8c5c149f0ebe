package devhub

import (
	"context"
	"log/slog"
	"net"
	"strconv"

	"golang.org/x/sync/errgroup"

	ppfake "github.com/revhub/revhub/connectors/paypal/fake"
	"github.com/revhub/revhub/connectors/provider"
	stfake "github.com/revhub/revhub/connectors/stripe/fake"
	"github.com/revhub/revhub/internal/money"
	"github.com/revhub/revhub/internal/payment/gateway"
)

// Dev credentials shared by the payment fakes and the dev stack's payment gateway (not secrets).
const (
	DevStripeAPIKey        = "sk_test_revhubdev"
	DevStripeWebhookSecret = "whsec_revhub_dev"
	DevPayPalClientID      = "revhub-dev-client"
	DevPayPalSecret        = "revhub-dev-secret"
	DevPayPalWebhookID     = "WH-REVHUB-DEV"
)

// startPaymentFakes serves the Stripe layer in front of stripe-mock and the PayPal fake, both
// delivering signed webhooks to the dev API.
func startPaymentFakes(ctx context.Context, g *errgroup.Group, o Options, log *slog.Logger) ([]Endpoint, error) {
	host := o.FakesHost
	if host == "" {
		host = "127.0.0.1"
	}
	api := apiBaseURL(o)
	layer := stfake.New(stfake.Options{MockURL: "http://127.0.0.1:" + strconv.Itoa(o.StripeMockPort), WebhookSecret: DevStripeWebhookSecret,
		WebhookURL: api + "/v1/webhooks/stripe", Chaos: o.Chaos})
	pp := ppfake.New(ppfake.Options{ClientID: DevPayPalClientID, Secret: DevPayPalSecret, WebhookID: DevPayPalWebhookID,
		WebhookURL: api + "/v1/webhooks/paypal", Chaos: o.Chaos})
	stripeURL, err := serveFake(ctx, g, log, "stripe layer", net.JoinHostPort(host, strconv.Itoa(o.StripePort)), layer.Handler())
	if err != nil {
		return nil, err
	}
	paypalURL, err := serveFake(ctx, g, log, "paypal", net.JoinHostPort(host, strconv.Itoa(o.PayPalPort)), pp.Handler())
	if err != nil {
		return nil, err
	}
	return []Endpoint{
		{"Stripe (stateful layer)", stripeURL, "records requests, replays Idempotency-Key, signs webhooks; control at /_control/"},
		{"PayPal fake", paypalURL, "OAuth, Orders v2, webhooks; control at /_control/"},
	}, nil
}

// paymentGatewayConfig points the dev stack's payment gateway at the fakes.
func paymentGatewayConfig(o Options) gateway.Config {
	host := o.FakesHost
	if host == "" {
		host = "127.0.0.1"
	}
	return gateway.Config{
		StripeAPIKey: DevStripeAPIKey, StripeWebhookSecret: DevStripeWebhookSecret,
		StripeBaseURL: "http://" + net.JoinHostPort(host, strconv.Itoa(o.StripePort)),
		PayPalBaseURL: "http://" + net.JoinHostPort(host, strconv.Itoa(o.PayPalPort)), PayPalClientID: DevPayPalClientID,
		PayPalSecret: DevPayPalSecret, PayPalWebhookID: DevPayPalWebhookID,
		Fallbacks: map[money.Currency]provider.Name{"USD": provider.Stripe, "EUR": provider.PayPal},
	}
}

// apiBaseURL is the dev API's URL as the fakes reach it.
func apiBaseURL(o Options) string {
	host, port, err := net.SplitHostPort(o.API.Listen)
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	if err != nil {
		port = "8080"
	}
	return "http://" + net.JoinHostPort(host, port)
}
