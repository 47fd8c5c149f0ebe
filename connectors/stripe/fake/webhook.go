package fake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	stripe "github.com/stripe/stripe-go/v82"
)

// Event builds a Stripe event of type typ around object, with a fresh "evt_" id and the API
// version stripe-go expects, and keeps it in the event log.
func (s *Server) Event(typ string, object map[string]any) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := map[string]any{
		"id": "evt_" + randomID(24), "object": "event", "api_version": stripe.APIVersion,
		"created": s.opts.Now().Unix(), "livemode": false, "pending_webhooks": 1, "type": typ,
		"request": map[string]any{"id": nil, "idempotency_key": nil},
		"data":    map[string]any{"object": publicPI(object)},
	}
	s.events = append(s.events, ev)
	b, _ := json.Marshal(ev)
	return b
}

// Events returns the raw events built so far, oldest first.
func (s *Server) Events() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.events))
	for i, ev := range s.events {
		out[i], _ = json.Marshal(ev)
	}
	return out
}

// Sign returns the Stripe-Signature header for payload signed at t with secret:
// "t=<unix>,v1=<hex HMAC-SHA256 of "<unix>.<payload>">".
func Sign(payload []byte, secret string, t time.Time) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", t.Unix())
	mac.Write(payload)
	return fmt.Sprintf("t=%d,v1=%s", t.Unix(), hex.EncodeToString(mac.Sum(nil)))
}

// Deliver posts payload to url signed with the layer's secret at the current time, as Stripe
// does on every (re)delivery, and returns the receiver's status and body.
func (s *Server) Deliver(ctx context.Context, url string, payload []byte) (int, []byte, error) {
	return s.DeliverSigned(ctx, url, payload, Sign(payload, s.opts.WebhookSecret, s.opts.Now()))
}

// DeliverSigned posts payload with the given Stripe-Signature header (to test bad signatures).
func (s *Server) DeliverSigned(ctx context.Context, url string, payload []byte, signature string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	req.Header.Set("Stripe-Signature", signature)
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("deliver webhook: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, nil
}

// emit builds an event and, when a webhook URL is configured, delivers it in the background.
func (s *Server) emit(typ string, object map[string]any) {
	payload := s.Event(typ, object)
	if s.opts.WebhookURL == "" {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _, _ = s.Deliver(ctx, s.opts.WebhookURL, payload)
	}()
}
