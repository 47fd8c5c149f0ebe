package mappings

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/revhub/revhub/connectors/paypal"
	"github.com/revhub/revhub/connectors/provider"
)

// PayPalWebhookEvent is the envelope of a PayPal webhook delivery.
type PayPalWebhookEvent struct {
	ID           string          `json:"id"`
	EventVersion string          `json:"event_version"`
	CreateTime   string          `json:"create_time"`
	ResourceType string          `json:"resource_type"`
	EventType    string          `json:"event_type"`
	Summary      string          `json:"summary"`
	Resource     json.RawMessage `json:"resource"`
}

// PayPalEvent translates a verified PayPal webhook body into revhub's payment event:
// PAYMENT.CAPTURE.COMPLETED / .PENDING / .DENIED / .DECLINED and PAYMENT.CAPTURE.REFUNDED; every
// other type is provider.EventOther.
func PayPalEvent(body []byte) (provider.Event, error) {
	var ev PayPalWebhookEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return provider.Event{Provider: provider.PayPal}, fmt.Errorf("paypal event: not JSON: %w", err)
	}
	out := provider.Event{Provider: provider.PayPal, ID: ev.ID, ProviderType: ev.EventType, Type: provider.EventOther}
	if ev.ID == "" {
		return out, fmt.Errorf("paypal event: id: is required")
	}
	if t, err := time.Parse(time.RFC3339Nano, ev.CreateTime); err == nil {
		out.OccurredAt = t.UTC()
	}
	switch ev.EventType {
	case "PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.PENDING", "PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED":
		var cp paypal.Capture
		if err := json.Unmarshal(ev.Resource, &cp); err != nil {
			return out, fmt.Errorf("paypal event %s: resource: not a capture: %w", ev.ID, err)
		}
		ch, err := paypal.CaptureCharge(cp)
		if err != nil {
			return out, fmt.Errorf("paypal event %s: resource: %w", ev.ID, err)
		}
		out.ChargeProviderID, out.Key, out.InvoiceID = cp.ID, cp.CustomID, cp.InvoiceID
		out.Amount, out.Currency = ch.Amount, ch.Currency
		switch ev.EventType {
		case "PAYMENT.CAPTURE.COMPLETED":
			out.Type, out.OccurredAt = provider.EventChargeSucceeded, ch.CapturedAt
		case "PAYMENT.CAPTURE.PENDING":
			out.Type = provider.EventChargePending
		default:
			out.Type, out.FailureCode, out.FailureMessage = provider.EventChargeFailed, strings.TrimPrefix(ev.EventType, "PAYMENT.CAPTURE."), ch.FailureMessage
		}
	case "PAYMENT.CAPTURE.REFUNDED":
		var rf struct {
			ID        string        `json:"id"`
			Amount    paypal.Amount `json:"amount"`
			InvoiceID string        `json:"invoice_id"`
			CustomID  string        `json:"custom_id"`
			Links     []paypal.Link `json:"links"`
		}
		if err := json.Unmarshal(ev.Resource, &rf); err != nil {
			return out, fmt.Errorf("paypal event %s: resource: not a refund: %w", ev.ID, err)
		}
		for _, l := range rf.Links {
			if l.Rel == "up" && strings.Contains(l.Href, "/v2/payments/captures/") {
				out.ChargeProviderID = l.Href[strings.LastIndex(l.Href, "/")+1:]
			}
		}
		if out.ChargeProviderID == "" || rf.ID == "" {
			return out, fmt.Errorf("paypal event %s: resource: refund id and its capture (links rel=up) are required", ev.ID)
		}
		amt, cur, err := paypal.ParseAmount(rf.Amount)
		if err != nil {
			return out, fmt.Errorf("paypal event %s: resource.%w", ev.ID, err)
		}
		out.Type, out.RefundProviderID, out.InvoiceID, out.Amount, out.Currency = provider.EventChargeRefunded, rf.ID, rf.InvoiceID, amt, cur
	}
	return out, nil
}
