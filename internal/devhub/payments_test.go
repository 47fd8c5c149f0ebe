package devhub

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/sync/errgroup"

	"github.com/revhub/revhub/connectors/provider"
	stfake "github.com/revhub/revhub/connectors/stripe/fake"
	"github.com/revhub/revhub/internal/payment/gateway"
)

func freeTCPPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestPaymentFakesServeTheDevGateway(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mock, err := stfake.StartMock(ctx, stfake.MockOptions{Port: freeTCPPort(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer mock.Stop()
	var mu sync.Mutex
	got := map[string]int{}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		if r.Header.Get("Stripe-Signature") != "" || r.Header.Get("PAYPAL-TRANSMISSION-SIG") != "" {
			got[r.URL.Path]++
		}
		mu.Unlock()
		_ = b
	}))
	defer api.Close()
	port := strings.TrimPrefix(mock.URL, "http://127.0.0.1:")
	o := Options{StripeMockPort: atoi(t, port), StripePort: freeTCPPort(t), PayPalPort: freeTCPPort(t), API: apiOpts(api.Listener.Addr().String())}
	g, gctx := errgroup.WithContext(ctx)
	eps, err := startPaymentFakes(gctx, g, o, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil || len(eps) != 2 {
		t.Fatalf("%v %v", eps, err)
	}
	gw, err := gateway.New(paymentGatewayConfig(o), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, cur := range []string{"USD", "EUR"} {
		p, err := gw.Registry.Choose("", moneyCurrency(cur))
		if err != nil {
			t.Fatal(err)
		}
		inv := "INV-DEV-" + cur
		ch, err := p.Charge(ctx, provider.ChargeRequest{InvoiceID: inv, Attempt: 1, IdempotencyKey: provider.ChargeKey(inv, 1),
			Customer: provider.Customer{ID: "c", ProviderCustomer: "cus_dev", PaymentMethod: "pm_card_visa"}, Amount: decimal.RequireFromString("12.00"), Currency: moneyCurrency(cur)})
		if err != nil || ch.Status != provider.StatusSucceeded {
			t.Fatalf("%s via %s: %+v %v", cur, p.Name(), ch, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		s, pp := got["/v1/webhooks/stripe"], got["/v1/webhooks/paypal"]
		mu.Unlock()
		if s == 1 && pp == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhooks delivered: stripe %d, paypal %d", s, pp)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}
