package devhub

import (
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/revhub/revhub/internal/api"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/internal/payment/gateway"
)

// services are the capability services the dev stack's API and worker share.
type services struct {
	gateway  *gateway.Gateway
	payments *payment.Service
}

// newServices builds the dev stack's services against the fakes.
func newServices(pool *pgxpool.Pool, o Options, log *slog.Logger) (services, error) {
	gw, err := gateway.New(paymentGatewayConfig(o), log)
	if err != nil {
		return services{}, err
	}
	return services{gateway: gw, payments: payment.NewService(pool, gw.Registry, log)}, nil
}

// capabilities builds the API's capability services for the dev stack.
func capabilities(pool *pgxpool.Pool, tc client.Client, s services, log *slog.Logger) api.Capabilities {
	return api.Capabilities{
		Pool: pool, Temporal: tc, Log: log,
		Payments: api.PaymentDeps{Service: s.payments, Stripe: s.gateway.Stripe, PayPal: s.gateway.PayPal, Log: log},
	}
}
