package devhub

import (
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/connectors/netsuite"
	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/internal/api"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/internal/payment/gateway"
	"github.com/revhub/revhub/mappings"
)

// services are the capability services the dev stack's API and worker share.
type services struct {
	gateway  *gateway.Gateway
	payments *payment.Service
	sfPush   *salesforce.Verifier   // deal push notifications
	crm      *salesforce.RESTClient // the fake org, for the intake activities
	erp      *netsuite.Client       // the fake NetSuite account
	erpMap   *mappings.NetSuiteConfig
	queue    string // the worker's task queue (the intake runs there)
}

// newServices builds the dev stack's services against the fakes.
func newServices(pool *pgxpool.Pool, o Options, log *slog.Logger) (services, error) {
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
	return services{gateway: gw, payments: payment.NewService(pool, gw.Registry, log), sfPush: salesforcePush(pool), crm: crm,
		erp: erp, erpMap: erpMap, queue: o.TaskQueue}, nil
}

// workerDeps are the dev worker's activity dependencies.
func (s services) workerDeps(pool *pgxpool.Pool, log *slog.Logger) activities.Deps {
	return activities.Deps{Pool: pool, Log: log, Payments: s.payments, Salesforce: s.crm, NetSuite: s.erp, NetSuiteMapping: s.erpMap}
}

// capabilities builds the API's capability services for the dev stack.
func capabilities(pool *pgxpool.Pool, tc client.Client, s services, log *slog.Logger) api.Capabilities {
	return api.Capabilities{
		Pool: pool, Temporal: tc, Log: log,
		Payments:           api.PaymentDeps{Service: s.payments, Stripe: s.gateway.Stripe, PayPal: s.gateway.PayPal, Log: log},
		SalesforceVerifier: s.sfPush, IntakeTaskQueue: s.queue,
	}
}
