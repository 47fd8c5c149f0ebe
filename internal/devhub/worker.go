package devhub

import (
	"fmt"
	"os"
	"path/filepath"

	nsfake "github.com/revhub/revhub/connectors/netsuite/fake"
)

// WorkerCommandLine is the `revhub worker` command line (arguments, then environment) that runs
// the dev stack's worker as its own process against the dev fakes, as production runs it; it
// writes the NetSuite mapping and the SSP table it names into the data dir. The dev credentials
// go in the environment, as real secrets would.
func WorkerCommandLine(o Options) (args, env []string, err error) {
	mapping := filepath.Join(o.DataDir, "netsuite-mapping.yaml")
	ssp := filepath.Join(o.DataDir, "ssp.yaml")
	if err := os.WriteFile(mapping, []byte(DevNetSuiteMapping), 0o644); err != nil {
		return nil, nil, fmt.Errorf("worker command line: %w", err)
	}
	if err := os.WriteFile(ssp, devSSP, 0o644); err != nil {
		return nil, nil, fmt.Errorf("worker command line: %w", err)
	}
	gw := paymentGatewayConfig(o)
	creds := nsfake.DefaultCredentials
	args = []string{"worker",
		"--database-url", o.DatabaseURL,
		"--temporal-address", o.TemporalAddress,
		"--task-queue", o.TaskQueue,
		"--salesforce-login-url", salesforceURL(o), "--salesforce-client-id", DevSalesforceClientID, "--salesforce-multi-currency",
		"--netsuite-account-id", nsfake.DefaultAccountID, "--netsuite-base-url", netsuiteURL(o),
		"--netsuite-consumer-key", creds.ConsumerKey, "--netsuite-token-id", creds.TokenID, "--netsuite-mapping", mapping,
		"--stripe-base-url", gw.StripeBaseURL,
		"--paypal-base-url", gw.PayPalBaseURL, "--paypal-client-id", gw.PayPalClientID, "--paypal-webhook-id", gw.PayPalWebhookID,
		"--payment-fallbacks", "USD=stripe,EUR=paypal",
		"--ssp-file", ssp,
		"--late-grace", "0s",
	}
	env = []string{
		"REVHUB_SALESFORCE_CLIENT_SECRET=" + DevSalesforceClientSecret,
		"REVHUB_NETSUITE_CONSUMER_SECRET=" + creds.ConsumerSecret,
		"REVHUB_NETSUITE_TOKEN_SECRET=" + creds.TokenSecret,
		"REVHUB_STRIPE_API_KEY=" + gw.StripeAPIKey,
		"REVHUB_STRIPE_WEBHOOK_SECRET=" + gw.StripeWebhookSecret,
		"REVHUB_PAYPAL_SECRET=" + gw.PayPalSecret,
	}
	return args, env, nil
}
