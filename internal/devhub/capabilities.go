package devhub

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/connectors/netsuite"
	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/internal/api"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/internal/payment/gateway"
	"github.com/revhub/revhub/internal/revrec"
	"github.com/revhub/revhub/internal/usage"
	"github.com/revhub/revhub/mappings"
)

// devMeters are the meters of the demo deals' usage products.
//
//go:embed meters.yaml
var devMeters []byte

// devSSP is the standalone selling price table of the demo products.
//
//go:embed ssp.yaml
var devSSP []byte

// services are the capability services the dev stack's API and worker share.
type services struct {
	gateway  *gateway.Gateway
	payments *payment.Service
	sfPush   *salesforce.Verifier   // deal push notifications
	crm      *salesforce.RESTClient // the fake org, for the intake activities
	erp      *netsuite.Client       // the fake NetSuite account
	erpMap   *mappings.NetSuiteConfig
	queue    string // the worker's task queue (the intake runs there)
	ingest   *usage.Ingester
	ssp      *revrec.SSPTable
}

// newServices builds the dev stack's services against the fakes.
func newServices(ctx context.Context, pool *pgxpool.Pool, o Options, log *slog.Logger) (services, error) {
	gw, err := gateway.New(paymentGatewayConfig(o), log)
	if err != nil {
		return services{}, err
	}
	crm, err := salesforce.New(SalesforceConfig(o, log))
	if err != nil {
		return services{}, err
	}
	erp, err := netsuite.New(NetSuiteConfig(o, log))
	if err != nil {
		return services{}, err
	}
	erpMap, err := NetSuiteMapping()
	if err != nil {
		return services{}, err
	}
	meters, err := usage.ParseMeterFile(bytes.NewReader(devMeters))
	if err != nil {
		return services{}, fmt.Errorf("dev meters: %w", err)
	}
	for _, m := range meters {
		if _, err := usage.InsertMeter(ctx, pool, m); err != nil {
			return services{}, fmt.Errorf("dev meter %s: %w", m.Slug, err)
		}
	}
	ing, err := usage.NewIngester(ctx, pool, usage.IngesterOptions{Logger: log})
	if err != nil {
		return services{}, err
	}
	ssp, err := revrec.LoadSSPTable(bytes.NewReader(devSSP))
	if err != nil {
		ing.Close()
		return services{}, fmt.Errorf("dev ssp table: %w", err)
	}
	return services{gateway: gw, payments: payment.NewService(pool, gw.Registry, log), sfPush: salesforcePush(pool), crm: crm,
		erp: erp, erpMap: erpMap, queue: o.TaskQueue, ingest: ing, ssp: ssp}, nil
}

// workerDeps are the dev worker's activity dependencies.
func (s services) workerDeps(pool *pgxpool.Pool, log *slog.Logger) activities.Deps {
	return activities.Deps{Pool: pool, Log: log, Payments: s.payments, Salesforce: s.crm, NetSuite: s.erp, NetSuiteMapping: s.erpMap, SSP: s.ssp}
}

// capabilities builds the API's capability services for the dev stack.
func capabilities(pool *pgxpool.Pool, tc client.Client, s services, log *slog.Logger) api.Capabilities {
	return api.Capabilities{
		Pool: pool, Temporal: tc, Log: log,
		Payments:           api.PaymentDeps{Service: s.payments, Stripe: s.gateway.Stripe, PayPal: s.gateway.PayPal, Log: log},
		SalesforceVerifier: s.sfPush, IntakeTaskQueue: s.queue, CloseTaskQueue: s.queue, Usage: s.ingest,
	}
}
