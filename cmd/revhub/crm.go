package main

import (
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/urfave/cli/v3"

	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/internal/config"
	"github.com/revhub/revhub/internal/intake"
)

// salesforceFlags configure the CRM connector. The client secret and the push-notification secret
// are not flags: REVHUB_SALESFORCE_CLIENT_SECRET and REVHUB_SALESFORCE_NOTIFY_SECRET (or NAME_FILE).
func salesforceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "salesforce-login-url", Usage: "the org's My Domain URL (token endpoint); empty disables the CRM intake", Sources: cli.EnvVars("REVHUB_SALESFORCE_LOGIN_URL")},
		&cli.StringFlag{Name: "salesforce-client-id", Usage: "the connected app's consumer key", Sources: cli.EnvVars("REVHUB_SALESFORCE_CLIENT_ID")},
		&cli.BoolFlag{Name: "salesforce-multi-currency", Usage: "the org has multi-currency enabled (CurrencyIsoCode exists)", Sources: cli.EnvVars("REVHUB_SALESFORCE_MULTI_CURRENCY")},
		&cli.StringFlag{Name: "salesforce-org-currency", Value: "USD", Usage: "the org's corporate currency when multi-currency is off", Sources: cli.EnvVars("REVHUB_SALESFORCE_ORG_CURRENCY")},
	}
}

// salesforceClient builds the CRM client, or nil when no login URL is configured.
func salesforceClient(cmd *cli.Command, log *slog.Logger, secrets config.Secrets) (*salesforce.RESTClient, error) {
	if cmd.String("salesforce-login-url") == "" {
		return nil, nil
	}
	c, err := salesforce.New(salesforce.Config{
		LoginURL: cmd.String("salesforce-login-url"), ClientID: cmd.String("salesforce-client-id"),
		ClientSecret: secrets.SalesforceClientSecret.Reveal(), MultiCurrency: cmd.Bool("salesforce-multi-currency"),
		OrgCurrency: cmd.String("salesforce-org-currency"), Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("salesforce: %w", err)
	}
	return c, nil
}

// salesforceVerifier verifies deal push notifications, or is nil when no secret is configured.
func salesforceVerifier(pool *pgxpool.Pool, secrets config.Secrets) (*salesforce.Verifier, error) {
	if secrets.SalesforceNotifySecret == "" {
		return nil, nil
	}
	return &salesforce.Verifier{Secrets: [][]byte{[]byte(secrets.SalesforceNotifySecret.Reveal())}, Replays: intake.NewReplayStore(pool, nil)}, nil
}
