package mappings

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/provider"
)

const captureJSON = `{"id":"2GG279541U471931P","status":"%s",%s"amount":{"currency_code":"%s","value":"%s"},"final_capture":true,
	"invoice_id":"inv-9","custom_id":"invoice:inv-9:charge:1","create_time":"2026-11-20T10:00:00Z","update_time":"2026-11-20T10:00:00Z"}`

func paypalEvent(typ, resource string) []byte {
	return []byte(`{"id":"WH-1","event_version":"1.0","create_time":"2026-11-20T10:00:05.123Z","resource_type":"capture",
		"event_type":"` + typ + `","summary":"x","resource":` + resource + `}`)
}

func TestPayPalEvent(t *testing.T) {
	created := time.Date(2026, 11, 20, 10, 0, 5, 123e6, time.UTC)
	cases := []struct {
		name    string
		body    []byte
		want    provider.Event
		wantErr string
	}{
		{"completed", paypalEvent("PAYMENT.CAPTURE.COMPLETED", fmtJSON(captureJSON, "COMPLETED", "", "EUR", "250.00")), provider.Event{
			Type: provider.EventChargeSucceeded, ChargeProviderID: "2GG279541U471931P", Key: "invoice:inv-9:charge:1", InvoiceID: "inv-9",
			Amount: decimal.RequireFromString("250"), Currency: "EUR", OccurredAt: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}, ""},
		{"pending", paypalEvent("PAYMENT.CAPTURE.PENDING", fmtJSON(captureJSON, "PENDING", `"status_details":{"reason":"PENDING_REVIEW"},`, "USD", "5")), provider.Event{
			Type: provider.EventChargePending, ChargeProviderID: "2GG279541U471931P", Key: "invoice:inv-9:charge:1", InvoiceID: "inv-9",
			Amount: decimal.RequireFromString("5"), Currency: "USD", OccurredAt: created}, ""},
		{"denied", paypalEvent("PAYMENT.CAPTURE.DENIED", fmtJSON(captureJSON, "DECLINED", `"status_details":{"reason":"RISK"},`, "USD", "5.00")), provider.Event{
			Type: provider.EventChargeFailed, ChargeProviderID: "2GG279541U471931P", Key: "invoice:inv-9:charge:1", InvoiceID: "inv-9",
			Amount: decimal.RequireFromString("5"), Currency: "USD", FailureCode: "DENIED", FailureMessage: "RISK", OccurredAt: created}, ""},
		{"refunded", paypalEvent("PAYMENT.CAPTURE.REFUNDED", `{"id":"1JU08902781691411","status":"COMPLETED","amount":{"currency_code":"EUR","value":"10.00"},
			"invoice_id":"inv-9","links":[{"href":"https://api-m.paypal.com/v2/payments/refunds/1JU08902781691411","rel":"self","method":"GET"},
			{"href":"https://api-m.paypal.com/v2/payments/captures/2GG279541U471931P","rel":"up","method":"GET"}]}`), provider.Event{
			Type: provider.EventChargeRefunded, ChargeProviderID: "2GG279541U471931P", RefundProviderID: "1JU08902781691411", InvoiceID: "inv-9",
			Amount: decimal.RequireFromString("10"), Currency: "EUR", OccurredAt: created}, ""},
		{"other", paypalEvent("CHECKOUT.ORDER.APPROVED", `{"id":"5O190127TN364715T"}`), provider.Event{Type: provider.EventOther, OccurredAt: created}, ""},
		{"too many decimals", paypalEvent("PAYMENT.CAPTURE.COMPLETED", fmtJSON(captureJSON, "COMPLETED", "", "JPY", "10.5")), provider.Event{}, "more decimals than JPY"},
		{"refund without capture link", paypalEvent("PAYMENT.CAPTURE.REFUNDED", `{"id":"R1","amount":{"currency_code":"EUR","value":"1.00"}}`), provider.Event{}, "links rel=up"},
		{"not json", []byte("{"), provider.Event{}, "not JSON"},
		{"no id", []byte(`{"event_type":"PAYMENT.CAPTURE.COMPLETED"}`), provider.Event{}, "id: is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := PayPalEvent(c.body)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.want.Provider, c.want.ID = provider.PayPal, "WH-1"
			c.want.ProviderType = got.ProviderType
			if !equalEvent(got, c.want) {
				t.Fatalf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}
