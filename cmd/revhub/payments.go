package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/revhub/revhub/connectors/paypal"
	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/config"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/internal/payment/gateway"
	"github.com/revhub/revhub/internal/payment/statement"
)

// paymentFlags configure the payment providers (shared by api, worker and payments). Their
// secrets are not flags: REVHUB_STRIPE_API_KEY (empty disables Stripe), REVHUB_STRIPE_WEBHOOK_SECRET
// and REVHUB_PAYPAL_SECRET come from the environment or NAME_FILE (see internal/config).
func paymentFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "stripe-base-url", Usage: "Stripe API base URL (empty: api.stripe.com)", Sources: cli.EnvVars("REVHUB_STRIPE_BASE_URL")},
		&cli.StringFlag{Name: "stripe-currencies", Usage: "currencies Stripe accepts, e.g. USD,EUR (empty: all)", Sources: cli.EnvVars("REVHUB_STRIPE_CURRENCIES")},
		&cli.StringFlag{Name: "paypal-base-url", Value: paypal.SandboxURL, Usage: "PayPal API base URL", Sources: cli.EnvVars("REVHUB_PAYPAL_BASE_URL")},
		&cli.StringFlag{Name: "paypal-client-id", Usage: "PayPal REST client id; empty disables PayPal", Sources: cli.EnvVars("REVHUB_PAYPAL_CLIENT_ID")},
		&cli.StringFlag{Name: "paypal-webhook-id", Usage: "PayPal webhook id, for signature verification", Sources: cli.EnvVars("REVHUB_PAYPAL_WEBHOOK_ID")},
		&cli.StringFlag{Name: "paypal-currencies", Usage: "currencies PayPal accepts (empty: all)", Sources: cli.EnvVars("REVHUB_PAYPAL_CURRENCIES")},
		&cli.StringFlag{Name: "payment-fallbacks", Usage: "provider per currency when a customer has no usable choice, e.g. USD=stripe,EUR=paypal", Sources: cli.EnvVars("REVHUB_PAYMENT_FALLBACKS")},
	}
}

// paymentGatewayConfig reads paymentFlags and takes the payment secrets.
func paymentGatewayConfig(cmd *cli.Command, secrets config.Secrets) (gateway.Config, error) {
	fb, err := gateway.ParseFallbacks(cmd.String("payment-fallbacks"))
	if err != nil {
		return gateway.Config{}, fmt.Errorf("--payment-fallbacks: %w", err)
	}
	sc, err := gateway.ParseCurrencies(cmd.String("stripe-currencies"))
	if err != nil {
		return gateway.Config{}, fmt.Errorf("--stripe-currencies: %w", err)
	}
	pc, err := gateway.ParseCurrencies(cmd.String("paypal-currencies"))
	if err != nil {
		return gateway.Config{}, fmt.Errorf("--paypal-currencies: %w", err)
	}
	return gateway.Config{
		StripeAPIKey: secrets.StripeAPIKey.Reveal(), StripeBaseURL: cmd.String("stripe-base-url"),
		StripeWebhookSecret: secrets.StripeWebhookSecret.Reveal(), StripeCurrencies: sc,
		PayPalBaseURL: cmd.String("paypal-base-url"), PayPalClientID: cmd.String("paypal-client-id"), PayPalSecret: secrets.PayPalSecret.Reveal(),
		PayPalWebhookID: cmd.String("paypal-webhook-id"), PayPalCurrencies: pc, Fallbacks: fb,
	}, nil
}

// paymentsCommand is `revhub payments`: bank statement import and reconciliation.
func paymentsCommand() *cli.Command {
	return &cli.Command{
		Name:  "payments",
		Usage: "payments: import bank statements, reconcile with providers",
		Commands: []*cli.Command{
			{
				Name:        "import-statement",
				Usage:       "import a bank statement CSV and match its lines to invoices (re-importing changes nothing)",
				ArgsUsage:   "FILE",
				Description: "Columns: account, transaction_id, booked_on (YYYY-MM-DD), amount, currency, and optionally\nreference (remittance text with the RF reference) and counterparty. See docs/payments.md.",
				Flags:       concat(databaseFlags(), logFlags()),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					if cmd.Args().Len() != 1 {
						return fmt.Errorf("payments import-statement: exactly one FILE argument is required")
					}
					log, err := newLogger(cmd)
					if err != nil {
						return err
					}
					pool, err := openDB(ctx, cmd, false, log)
					if err != nil {
						return err
					}
					defer pool.Close()
					f, err := os.Open(cmd.Args().First())
					if err != nil {
						return fmt.Errorf("payments import-statement: %w", err)
					}
					defer f.Close()
					res, err := statement.Import(ctx, payment.NewService(pool, provider.NewRegistry(), log), f)
					w := cmd.Root().Writer
					for _, r := range res {
						fmt.Fprintf(w, "row %d %s/%s: %s %s applied %s excess %s remaining %s %s\n", r.Row, r.Line.Account, r.Line.TransactionID,
							r.Outcome, r.InvoiceID, r.Applied, r.Excess, r.Remaining, r.Exception)
					}
					return err
				},
			},
			{
				Name:  "reconcile",
				Usage: "compare recorded payments with a provider's captured payments for a period; differences become exceptions",
				Flags: concat(databaseFlags(), logFlags(), paymentFlags(), []cli.Flag{
					&cli.StringFlag{Name: "provider", Required: true, Usage: "stripe, paypal or bank"},
					&cli.TimestampFlag{Name: "from", Required: true, Usage: "start of the period (inclusive)", Config: cli.TimestampConfig{Layouts: []string{"2006-01-02", time.RFC3339}}},
					&cli.TimestampFlag{Name: "to", Required: true, Usage: "end of the period (exclusive)", Config: cli.TimestampConfig{Layouts: []string{"2006-01-02", time.RFC3339}}},
				}),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					log, err := newLogger(cmd)
					if err != nil {
						return err
					}
					secrets, err := config.LoadSecrets(os.Getenv)
					if err != nil {
						return err
					}
					cfg, err := paymentGatewayConfig(cmd, secrets)
					if err != nil {
						return err
					}
					gw, err := gateway.New(cfg, log)
					if err != nil {
						return err
					}
					pool, err := openDB(ctx, cmd, false, log)
					if err != nil {
						return err
					}
					defer pool.Close()
					svc := payment.NewService(pool, gw.Registry, log)
					res, err := svc.Reconcile(ctx, provider.Name(cmd.String("provider")), cmd.Timestamp("from"), cmd.Timestamp("to"))
					if err != nil {
						return err
					}
					w := cmd.Root().Writer
					fmt.Fprintf(w, "%s %s..%s: %d matched, %d exceptions\n", res.Provider, res.From.Format(time.RFC3339), res.To.Format(time.RFC3339), len(res.Matched), len(res.Exceptions))
					for _, e := range res.Exceptions {
						fmt.Fprintf(w, "  %s %s: %s\n", e.Kind, e.Source, e.Reason)
					}
					return nil
				},
			},
		},
	}
}
