package paypal_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/revhub/revhub/connectors/paypal"
	"github.com/revhub/revhub/connectors/paypal/fake"
)

// TestAttemptTimeoutBoundsAHangingPayPal: a PayPal that never answers costs one attempt timeout,
// not a hung webhook request or activity, even when the caller's context has no deadline.
func TestAttemptTimeoutBoundsAHangingPayPal(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c, err := paypal.New(paypal.Config{BaseURL: srv.URL, ClientID: "id", Secret: "s", WebhookID: "WH-1", RetryMax: -1, AttemptTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	sig := fake.New(fake.Options{WebhookID: "WH-1"}).Sign([]byte(`{"id":"WH-X"}`))
	h.Set("PAYPAL-TRANSMISSION-ID", sig.TransmissionID)
	h.Set("PAYPAL-TRANSMISSION-TIME", sig.TransmissionTime)
	h.Set("PAYPAL-TRANSMISSION-SIG", sig.TransmissionSig)
	h.Set("PAYPAL-CERT-URL", sig.CertURL)
	h.Set("PAYPAL-AUTH-ALGO", sig.AuthAlgo)
	err = c.VerifyWebhook(context.Background(), h, []byte(`{"id":"WH-X"}`))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("VerifyWebhook against a hanging PayPal: %v, want a timeout", err)
	}
	if errors.Is(err, paypal.ErrBadSignature) {
		t.Fatalf("a timeout is not a bad signature (PayPal must retry): %v", err)
	}
}
