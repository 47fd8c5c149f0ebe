package config

import (
	"errors"
)

// Stripe configures the Stripe connector; URL points at stripe-mock in development.
type Stripe struct {
	APIKey        Secret // REVHUB_STRIPE_API_KEY(_FILE)
	URL           string // REVHUB_STRIPE_API_URL; empty means api.stripe.com
	WebhookSecret Secret // REVHUB_STRIPE_WEBHOOK_SECRET(_FILE), whsec_...
}

// PayPal configures the PayPal connector.
type PayPal struct {
	ClientID     string // REVHUB_PAYPAL_CLIENT_ID
	ClientSecret Secret // REVHUB_PAYPAL_CLIENT_SECRET(_FILE)
	URL          string // REVHUB_PAYPAL_API_URL; empty means the live API host
	WebhookID    string // REVHUB_PAYPAL_WEBHOOK_ID
}

// Salesforce configures the CRM connector.
type Salesforce struct {
	LoginURL     string // REVHUB_SALESFORCE_LOGIN_URL (My Domain)
	ClientID     string // REVHUB_SALESFORCE_CLIENT_ID
	ClientSecret Secret // REVHUB_SALESFORCE_CLIENT_SECRET(_FILE)
	NotifySecret Secret // REVHUB_SALESFORCE_NOTIFY_SECRET(_FILE): signs push notifications
}

// NetSuite configures the ERP connector (token-based authentication).
type NetSuite struct {
	AccountID      string // REVHUB_NETSUITE_ACCOUNT_ID
	URL            string // REVHUB_NETSUITE_API_URL; empty means the account's SuiteTalk host
	ConsumerKey    string // REVHUB_NETSUITE_CONSUMER_KEY
	ConsumerSecret Secret // REVHUB_NETSUITE_CONSUMER_SECRET(_FILE)
	TokenID        string // REVHUB_NETSUITE_TOKEN_ID
	TokenSecret    Secret // REVHUB_NETSUITE_TOKEN_SECRET(_FILE)
}

// Providers are every outside system's settings.
type Providers struct {
	Stripe     Stripe
	PayPal     PayPal
	Salesforce Salesforce
	NetSuite   NetSuite
}

// EnvVars lists every variable Load reads (each secret also as NAME_FILE), for docs and tests.
var EnvVars = []string{
	"REVHUB_STRIPE_API_KEY", "REVHUB_STRIPE_API_URL", "REVHUB_STRIPE_WEBHOOK_SECRET",
	"REVHUB_PAYPAL_CLIENT_ID", "REVHUB_PAYPAL_CLIENT_SECRET", "REVHUB_PAYPAL_API_URL", "REVHUB_PAYPAL_WEBHOOK_ID",
	"REVHUB_SALESFORCE_LOGIN_URL", "REVHUB_SALESFORCE_CLIENT_ID", "REVHUB_SALESFORCE_CLIENT_SECRET", "REVHUB_SALESFORCE_NOTIFY_SECRET",
	"REVHUB_NETSUITE_ACCOUNT_ID", "REVHUB_NETSUITE_API_URL", "REVHUB_NETSUITE_CONSUMER_KEY", "REVHUB_NETSUITE_CONSUMER_SECRET",
	"REVHUB_NETSUITE_TOKEN_ID", "REVHUB_NETSUITE_TOKEN_SECRET",
}

// Load reads the providers' settings; every problem is reported at once, naming the variable.
func Load(getenv Getenv) (Providers, error) {
	var p Providers
	var errs []error
	secret := func(dst *Secret, name string) {
		v, err := ReadSecret(getenv, name)
		if err != nil {
			errs = append(errs, err)
		}
		*dst = v
	}
	secret(&p.Stripe.APIKey, "REVHUB_STRIPE_API_KEY")
	p.Stripe.URL = getenv("REVHUB_STRIPE_API_URL")
	secret(&p.Stripe.WebhookSecret, "REVHUB_STRIPE_WEBHOOK_SECRET")
	p.PayPal.ClientID = getenv("REVHUB_PAYPAL_CLIENT_ID")
	secret(&p.PayPal.ClientSecret, "REVHUB_PAYPAL_CLIENT_SECRET")
	p.PayPal.URL = getenv("REVHUB_PAYPAL_API_URL")
	p.PayPal.WebhookID = getenv("REVHUB_PAYPAL_WEBHOOK_ID")
	p.Salesforce.LoginURL = getenv("REVHUB_SALESFORCE_LOGIN_URL")
	p.Salesforce.ClientID = getenv("REVHUB_SALESFORCE_CLIENT_ID")
	secret(&p.Salesforce.ClientSecret, "REVHUB_SALESFORCE_CLIENT_SECRET")
	secret(&p.Salesforce.NotifySecret, "REVHUB_SALESFORCE_NOTIFY_SECRET")
	p.NetSuite.AccountID = getenv("REVHUB_NETSUITE_ACCOUNT_ID")
	p.NetSuite.URL = getenv("REVHUB_NETSUITE_API_URL")
	p.NetSuite.ConsumerKey = getenv("REVHUB_NETSUITE_CONSUMER_KEY")
	secret(&p.NetSuite.ConsumerSecret, "REVHUB_NETSUITE_CONSUMER_SECRET")
	p.NetSuite.TokenID = getenv("REVHUB_NETSUITE_TOKEN_ID")
	secret(&p.NetSuite.TokenSecret, "REVHUB_NETSUITE_TOKEN_SECRET")
	return p, errors.Join(errs...)
}

// Secrets lists every non-empty secret value, so a log-capturing test can check none leaked.
func (p Providers) Secrets() []string {
	var out []string
	for _, s := range []Secret{p.Stripe.APIKey, p.Stripe.WebhookSecret, p.PayPal.ClientSecret, p.Salesforce.ClientSecret,
		p.Salesforce.NotifySecret, p.NetSuite.ConsumerSecret, p.NetSuite.TokenSecret} {
		if s != "" {
			out = append(out, s.Reveal())
		}
	}
	return out
}
