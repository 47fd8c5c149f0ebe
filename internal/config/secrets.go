package config

import "errors"

// Secrets are every outside system's secret, each read from NAME or the file named by NAME_FILE.
// Non-secret settings (URLs, ids, currencies) are flags with environment variables instead.
type Secrets struct {
	StripeAPIKey           Secret // REVHUB_STRIPE_API_KEY
	StripeWebhookSecret    Secret // REVHUB_STRIPE_WEBHOOK_SECRET (whsec_...)
	PayPalSecret           Secret // REVHUB_PAYPAL_SECRET
	SalesforceClientSecret Secret // REVHUB_SALESFORCE_CLIENT_SECRET
	SalesforceNotifySecret Secret // REVHUB_SALESFORCE_NOTIFY_SECRET: signs push notifications
	NetSuiteConsumerSecret Secret // REVHUB_NETSUITE_CONSUMER_SECRET
	NetSuiteTokenSecret    Secret // REVHUB_NETSUITE_TOKEN_SECRET
}

// SecretEnvVars lists the variables LoadSecrets reads (each also as NAME_FILE).
var SecretEnvVars = []string{
	"REVHUB_STRIPE_API_KEY", "REVHUB_STRIPE_WEBHOOK_SECRET", "REVHUB_PAYPAL_SECRET",
	"REVHUB_SALESFORCE_CLIENT_SECRET", "REVHUB_SALESFORCE_NOTIFY_SECRET",
	"REVHUB_NETSUITE_CONSUMER_SECRET", "REVHUB_NETSUITE_TOKEN_SECRET",
}

// LoadSecrets reads every secret; all problems are reported at once, naming the variable.
func LoadSecrets(getenv Getenv) (Secrets, error) {
	var s Secrets
	var errs []error
	for i, dst := range s.fields() {
		v, err := ReadSecret(getenv, SecretEnvVars[i])
		if err != nil {
			errs = append(errs, err)
		}
		*dst = v
	}
	return s, errors.Join(errs...)
}

func (s *Secrets) fields() []*Secret {
	return []*Secret{&s.StripeAPIKey, &s.StripeWebhookSecret, &s.PayPalSecret, &s.SalesforceClientSecret,
		&s.SalesforceNotifySecret, &s.NetSuiteConsumerSecret, &s.NetSuiteTokenSecret}
}

// Values lists every non-empty secret, so a log-capturing test can check none leaked.
func (s Secrets) Values() []string {
	var out []string
	for _, f := range s.fields() {
		if *f != "" {
			out = append(out, f.Reveal())
		}
	}
	return out
}
