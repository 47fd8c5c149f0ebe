package fake

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"sync"
	"time"
)

// CertURL is the PAYPAL-CERT-URL the fake signs with (the verify endpoint only accepts this one).
const CertURL = "https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-fake0001"

// AuthAlgo is the PAYPAL-AUTH-ALGO of every delivery.
const AuthAlgo = "SHA256withRSA"

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
)

func signingKey() *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(fmt.Sprintf("paypal fake: generate signing key: %v", err))
		}
	})
	return key
}

// signedMessage is what PayPal signs: transmission id, time, webhook id and the CRC32 of the body.
func signedMessage(transmissionID, transmissionTime, webhookID string, body []byte) []byte {
	return fmt.Appendf(nil, "%s|%s|%s|%d", transmissionID, transmissionTime, webhookID, crc32.ChecksumIEEE(body))
}

// Headers are the PAYPAL-* headers of one delivery.
type Headers struct {
	TransmissionID   string
	TransmissionTime string
	TransmissionSig  string
	CertURL          string
	AuthAlgo         string
}

// Sign returns delivery headers for body, signed for the fake's webhook id.
func (s *Server) Sign(body []byte) Headers {
	h := Headers{TransmissionID: randomHex(8) + "-" + randomHex(4) + "-11ef-" + randomHex(4) + "-" + randomHex(12),
		TransmissionTime: s.opts.Now().UTC().Format(time.RFC3339), CertURL: CertURL, AuthAlgo: AuthAlgo}
	sum := sha256.Sum256(signedMessage(h.TransmissionID, h.TransmissionTime, s.opts.WebhookID, body))
	sig, err := rsa.SignPKCS1v15(rand.Reader, signingKey(), crypto.SHA256, sum[:])
	if err != nil {
		panic(fmt.Sprintf("paypal fake: sign webhook: %v", err))
	}
	h.TransmissionSig = base64.StdEncoding.EncodeToString(sig)
	return h
}

// verifyWebhook serves POST /v1/notifications/verify-webhook-signature: HTTP 200 with
// verification_status SUCCESS or FAILURE (a failed check is not an HTTP error).
func (s *Server) verifyWebhook(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AuthAlgo         string          `json:"auth_algo"`
		CertURL          string          `json:"cert_url"`
		TransmissionID   string          `json:"transmission_id"`
		TransmissionSig  string          `json:"transmission_sig"`
		TransmissionTime string          `json:"transmission_time"`
		WebhookID        string          `json:"webhook_id"`
		WebhookEvent     json.RawMessage `json:"webhook_event"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, 400, "INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema.",
			[]detail{{Location: "body", Issue: "MALFORMED_REQUEST_JSON"}})
		return
	}
	var missing []detail
	for field, v := range map[string]string{"auth_algo": req.AuthAlgo, "cert_url": req.CertURL, "transmission_id": req.TransmissionID,
		"transmission_sig": req.TransmissionSig, "transmission_time": req.TransmissionTime, "webhook_id": req.WebhookID} {
		if v == "" {
			missing = append(missing, detail{Field: field, Location: "body", Issue: "MISSING_REQUIRED_PARAMETER"})
		}
	}
	if len(req.WebhookEvent) == 0 {
		missing = append(missing, detail{Field: "webhook_event", Location: "body", Issue: "MISSING_REQUIRED_PARAMETER"})
	}
	if len(missing) > 0 {
		writeError(w, 400, "INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema.", missing)
		return
	}
	status := "FAILURE"
	if sig, err := base64.StdEncoding.DecodeString(req.TransmissionSig); err == nil && req.AuthAlgo == AuthAlgo && req.CertURL == CertURL && req.WebhookID == s.opts.WebhookID {
		sum := sha256.Sum256(signedMessage(req.TransmissionID, req.TransmissionTime, req.WebhookID, req.WebhookEvent))
		if rsa.VerifyPKCS1v15(&signingKey().PublicKey, crypto.SHA256, sum[:], sig) == nil {
			status = "SUCCESS"
		}
	}
	writeJSON(w, 200, map[string]string{"verification_status": status})
}

// Event builds a webhook event around resource and keeps it in the event log.
func (s *Server) Event(eventType, resourceType string, resource []byte, summary string) []byte {
	id := "WH-" + randomID(17) + "-" + randomID(17)
	b, _ := json.Marshal(map[string]any{
		"id": id, "event_version": "1.0", "create_time": s.opts.Now().UTC().Format(time.RFC3339Nano), "resource_type": resourceType,
		"resource_version": "2.0", "event_type": eventType, "summary": summary, "resource": json.RawMessage(resource),
		"links": []map[string]string{
			{"href": s.selfURL() + "/v1/notifications/webhooks-events/" + id, "rel": "self", "method": "GET"},
			{"href": s.selfURL() + "/v1/notifications/webhooks-events/" + id + "/resend", "rel": "resend", "method": "POST"},
		},
	})
	s.mu.Lock()
	s.events = append(s.events, b)
	s.mu.Unlock()
	return b
}

// Events returns every event built so far, oldest first.
func (s *Server) Events() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.events...)
}

// Deliver posts event to url with freshly signed PAYPAL-* headers and returns the answer.
func (s *Server) Deliver(ctx context.Context, url string, event []byte) (int, []byte, error) {
	return s.DeliverWith(ctx, url, event, s.Sign(event))
}

// DeliverWith posts event with the given headers (to test forged or stale signatures).
func (s *Server) DeliverWith(ctx context.Context, url string, event []byte, h Headers) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(event))
	if err != nil {
		return 0, nil, fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("PAYPAL-TRANSMISSION-ID", h.TransmissionID)
	req.Header.Set("PAYPAL-TRANSMISSION-TIME", h.TransmissionTime)
	req.Header.Set("PAYPAL-TRANSMISSION-SIG", h.TransmissionSig)
	req.Header.Set("PAYPAL-CERT-URL", h.CertURL)
	req.Header.Set("PAYPAL-AUTH-ALGO", h.AuthAlgo)
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("deliver webhook: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, nil
}

func (s *Server) emit(eventType, resourceType string, resource []byte, summary string) {
	ev := s.Event(eventType, resourceType, resource, summary)
	if s.opts.WebhookURL == "" {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _, _ = s.Deliver(ctx, s.opts.WebhookURL, ev)
	}()
}
