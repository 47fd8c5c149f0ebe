package paypal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// DefaultWebhookTolerance is how far a delivery's PAYPAL-TRANSMISSION-TIME may be from now. Each
// delivery attempt (retries and resends included) is a new transmission with its own time.
const DefaultWebhookTolerance = 5 * time.Minute

// ErrBadSignature means PayPal did not confirm a webhook's signature.
var ErrBadSignature = errors.New("paypal webhook: signature not verified")

// VerifyWebhook asks PayPal to check a delivery's PAYPAL-* headers against the raw event body,
// passed on byte for byte. It returns ErrBadSignature for verification_status FAILURE (which
// PayPal answers with HTTP 200) and another error when PayPal could not be asked.
func (c *Client) VerifyWebhook(ctx context.Context, h http.Header, body []byte) error {
	if c.cfg.WebhookID == "" {
		return errors.New("paypal webhook: webhook_id is not configured")
	}
	var missing []string
	get := func(name string) string {
		v := h.Get(name)
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	req := struct {
		AuthAlgo         string          `json:"auth_algo"`
		CertURL          string          `json:"cert_url"`
		TransmissionID   string          `json:"transmission_id"`
		TransmissionSig  string          `json:"transmission_sig"`
		TransmissionTime string          `json:"transmission_time"`
		WebhookID        string          `json:"webhook_id"`
		WebhookEvent     json.RawMessage `json:"webhook_event"`
	}{get("PAYPAL-AUTH-ALGO"), get("PAYPAL-CERT-URL"), get("PAYPAL-TRANSMISSION-ID"), get("PAYPAL-TRANSMISSION-SIG"),
		get("PAYPAL-TRANSMISSION-TIME"), c.cfg.WebhookID, json.RawMessage("null")}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing headers %v", ErrBadSignature, missing)
	}
	if err := c.checkTransmissionTime(req.TransmissionTime); err != nil {
		return err
	}
	if !json.Valid(body) {
		return fmt.Errorf("%w: body is not JSON", ErrBadSignature)
	}
	// Splice the event in byte for byte: re-marshalling could change it and break the signature.
	head, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("paypal webhook: encode: %w", err)
	}
	raw := append(bytes.TrimSuffix(head, []byte("null}")), body...)
	raw = append(raw, '}')
	var resp struct {
		Status string `json:"verification_status"`
	}
	if err := c.do(ctx, "POST", "/v1/notifications/verify-webhook-signature", "", json.RawMessage(raw), &resp); err != nil {
		return fmt.Errorf("paypal webhook: verify: %w", err)
	}
	if resp.Status != "SUCCESS" {
		return fmt.Errorf("%w: verification_status %s", ErrBadSignature, resp.Status)
	}
	return nil
}

// checkTransmissionTime refuses a delivery sent outside the tolerance: a captured delivery
// replayed later verifies at PayPal (the signature covers the time, not its age).
func (c *Client) checkTransmissionTime(v string) error {
	sent, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("%w: PAYPAL-TRANSMISSION-TIME %q is not an RFC 3339 time", ErrBadSignature, v)
	}
	tol, now := c.cfg.WebhookTolerance, time.Now
	if tol <= 0 {
		tol = DefaultWebhookTolerance
	}
	if c.cfg.Now != nil {
		now = c.cfg.Now
	}
	if age := now().Sub(sent); age > tol || age < -tol {
		return fmt.Errorf("%w: PAYPAL-TRANSMISSION-TIME %s is outside the tolerance of %s", ErrBadSignature, sent.UTC().Format(time.RFC3339), tol)
	}
	return nil
}
