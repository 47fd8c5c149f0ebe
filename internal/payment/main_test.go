package payment_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/paypal"
	ppfake "github.com/revhub/revhub/connectors/paypal/fake"
	"github.com/revhub/revhub/connectors/provider"
	rstripe "github.com/revhub/revhub/connectors/stripe"
	stfake "github.com/revhub/revhub/connectors/stripe/fake"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/internal/payment/webhook"
)

var stripeMockURL string

func TestMain(m *testing.M) {
	mock, err := stfake.StartMock(context.Background(), stfake.MockOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "stripe-mock is required for the payment integration tests:", err)
		os.Exit(1)
	}
	stripeMockURL = mock.URL
	code := m.Run()
	_ = mock.Stop()
	os.Exit(code)
}

const whsec = "whsec_integration"

// env is one test's world: its own database, the Stripe layer over stripe-mock, the PayPal fake,
// the service, and webhook endpoints that feed the service.
type env struct {
	db       *dbtest.DB
	svc      *payment.Service
	stripe   *stfake.Server
	paypal   *ppfake.Server
	stripeC  *rstripe.Client
	paypalP  *paypal.Provider
	stripeWH string // URL of the Stripe webhook endpoint
	paypalWH string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{db: dbtest.New(t)}
	e.stripe = stfake.New(stfake.Options{MockURL: stripeMockURL, WebhookSecret: whsec})
	ss := httptest.NewServer(e.stripe.Handler())
	t.Cleanup(ss.Close)
	var err error
	if e.stripeC, err = rstripe.New(rstripe.Config{APIKey: "sk_test_revhub", BaseURL: ss.URL, MaxNetworkRetries: -1}); err != nil {
		t.Fatal(err)
	}
	e.paypal = ppfake.New(ppfake.Options{ClientID: "id", Secret: "secret", WebhookID: "WH-REVHUB"})
	ps := httptest.NewServer(e.paypal.Handler())
	t.Cleanup(ps.Close)
	ppc, err := paypal.New(paypal.Config{BaseURL: ps.URL, ClientID: "id", Secret: "secret", WebhookID: "WH-REVHUB", RetryMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	e.paypalP = paypal.NewProvider(ppc)
	reg := provider.NewRegistry()
	reg.Register(e.stripeC)
	reg.Register(e.paypalP)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.svc = payment.NewService(e.db.Pool, reg, log)
	ver, err := rstripe.NewVerifier(whsec, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.stripeWH = e.endpoint(t, webhook.Stripe{Verifier: ver})
	e.paypalWH = e.endpoint(t, webhook.PayPal{Client: ppc})
	return e
}

// endpoint serves a decoder the way the API does: 200 with the outcome, 400 with the rejection.
func (e *env) endpoint(t *testing.T, dec payment.Decoder) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		outcome, err := e.svc.HandleWebhook(r.Context(), dec, r.Header, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, outcome)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func (e *env) receivable(t *testing.T, invoice, amount, cur string) payment.Receivable {
	t.Helper()
	ref, err := payment.Reference(invoice)
	if err != nil {
		t.Fatal(err)
	}
	r := payment.Receivable{InvoiceID: invoice, CustomerID: "cust-" + invoice, Reference: ref, Currency: moneyCur(cur), Amount: dec(amount)}
	if err := e.svc.RegisterReceivable(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

func chargeReq(invoice string, attempt int, amount, cur string) provider.ChargeRequest {
	return provider.ChargeRequest{InvoiceID: invoice, Attempt: attempt, IdempotencyKey: provider.ChargeKey(invoice, attempt),
		Customer: provider.Customer{ID: "cust-" + invoice, ProviderCustomer: "cus_NffrFeUfNV2Hib", PaymentMethod: "pm_card_visa"},
		Amount:   dec(amount), Currency: moneyCur(cur)}
}
