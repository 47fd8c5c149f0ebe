package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/revhub/revhub/connectors/netsuite"
	"github.com/revhub/revhub/internal/config"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/mappings"
)

// netsuiteFlags configure the ERP connector and its sync. The consumer and token secrets are not
// flags: REVHUB_NETSUITE_CONSUMER_SECRET and REVHUB_NETSUITE_TOKEN_SECRET (or NAME_FILE).
func netsuiteFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "netsuite-account-id", Usage: "NetSuite account id (e.g. 1234567 or 1234567-sb1); empty disables the ERP sync", Sources: cli.EnvVars("REVHUB_NETSUITE_ACCOUNT_ID")},
		&cli.StringFlag{Name: "netsuite-base-url", Usage: "REST base URL (default: the account's SuiteTalk host; set for the fake)", Sources: cli.EnvVars("REVHUB_NETSUITE_BASE_URL")},
		&cli.StringFlag{Name: "netsuite-consumer-key", Usage: "integration record's consumer key", Sources: cli.EnvVars("REVHUB_NETSUITE_CONSUMER_KEY")},
		&cli.StringFlag{Name: "netsuite-token-id", Usage: "access token id", Sources: cli.EnvVars("REVHUB_NETSUITE_TOKEN_ID")},
		&cli.StringFlag{Name: "netsuite-mapping", Usage: "YAML file mapping accounts, entities, currencies and dimensions to NetSuite ids (docs/netsuite.md)", Sources: cli.EnvVars("REVHUB_NETSUITE_MAPPING")},
		&cli.StringSliceFlag{Name: "erp-entities", Usage: "billing entities whose ledger is synced on a schedule", Sources: cli.EnvVars("REVHUB_ERP_ENTITIES")},
		&cli.DurationFlag{Name: "erp-sync-every", Value: time.Hour, Usage: "how often the ERP sync schedule runs", Sources: cli.EnvVars("REVHUB_ERP_SYNC_EVERY")},
	}
}

// netsuiteClient builds the ERP client and its mapping (checked against the default chart of
// accounts), or nils when no account is configured.
func netsuiteClient(cmd *cli.Command, log *slog.Logger, secrets config.Secrets) (*netsuite.Client, *mappings.NetSuiteConfig, error) {
	if cmd.String("netsuite-account-id") == "" {
		return nil, nil, nil
	}
	path := cmd.String("netsuite-mapping")
	if path == "" {
		return nil, nil, fmt.Errorf("--netsuite-mapping: required when --netsuite-account-id is set")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--netsuite-mapping: %w", err)
	}
	m, err := mappings.ParseNetSuiteConfig(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("--netsuite-mapping %s: %w", path, err)
	}
	if err := m.Validate(ledger.DefaultChart()); err != nil {
		return nil, nil, fmt.Errorf("--netsuite-mapping %s: %w", path, err)
	}
	c, err := netsuite.New(netsuite.Config{
		AccountID: cmd.String("netsuite-account-id"), BaseURL: cmd.String("netsuite-base-url"),
		Credentials: netsuite.Credentials{
			ConsumerKey: cmd.String("netsuite-consumer-key"), ConsumerSecret: secrets.NetSuiteConsumerSecret.Reveal(),
			TokenID: cmd.String("netsuite-token-id"), TokenSecret: secrets.NetSuiteTokenSecret.Reveal(),
		},
		Logger: log,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("netsuite: %w", err)
	}
	return c, m, nil
}
