package api

import (
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/internal/usage"
)

// Capabilities are the services behind the capability routes. Each capability adds its fields
// here and its route list to CapabilityRoutes; a nil service still declares its routes (so the
// route table and the OpenAPI check see them) and its handlers answer 503.
type Capabilities struct {
	Pool     *pgxpool.Pool
	Temporal client.Client
	Log      *slog.Logger
	Codec    CodecOptions // the Temporal UI's codec server (payload encryption)
	Payments PaymentDeps  // provider webhooks, bank statements, payments
	// SalesforceVerifier checks deal push notifications (shared secret, tolerance, PostgreSQL replay store).
	SalesforceVerifier *salesforce.Verifier
	// IntakeTaskQueue is the worker task queue the Salesforce intake workflow runs on.
	IntakeTaskQueue string
	// CloseTaskQueue is the worker task queue the month-end close runs on; empty means IntakeTaskQueue.
	CloseTaskQueue string
	// Usage ingests events and answers meter queries (usage.NewIngester; run its meters file first).
	Usage *usage.Ingester
}

// CapabilityRoutes is the production list of capability routes.
func CapabilityRoutes(c Capabilities) []Route {
	var out []Route
	out = append(out, CodecRoutes(c.Codec)...)
	out = append(out, PaymentRoutes(c.Payments)...)
	out = append(out, revenueRoutes(c)...)
	out = append(out, salesforceRoutes(c)...)
	out = append(out, apiKeyRoutes(c)...)
	out = append(out, closeRoutes(c)...)
	out = append(out, UsageRoutes(c.Usage, c.Log)...)
	return out
}

// unavailable answers 503 for a capability whose service is not configured in this process.
func unavailable(what string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		WriteError(w, Errorf(http.StatusServiceUnavailable, "unavailable", "", "%s is not configured in this process", what))
	}
}
