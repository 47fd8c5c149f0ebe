package mappings

import (
	"testing"

	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/money"
)

// FuzzPayPalEvent feeds arbitrary webhook bodies to the PayPal event mapping: it must never panic,
// an accepted event has an id, and a mapped charge or refund carries a positive-or-zero amount
// rounded to its currency's minor unit.
func FuzzPayPalEvent(f *testing.F) {
	f.Add([]byte(`{"id":"WH-1","event_version":"1.0","create_time":"2026-11-24T10:00:00Z","resource_type":"capture","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"CAP1","status":"COMPLETED","amount":{"currency_code":"EUR","value":"70.00"},"invoice_id":"INV-700","custom_id":"invoice:INV-700:charge:1","create_time":"2026-11-24T10:00:00Z"}}`))
	f.Add([]byte(`{"id":"WH-2","event_type":"PAYMENT.CAPTURE.REFUNDED","resource":{"id":"R1","amount":{"currency_code":"JPY","value":"100"},"links":[{"rel":"up","href":"https://api-m.paypal.com/v2/payments/captures/CAP1"}]}}`))
	f.Add([]byte(`{"id":"WH-3","event_type":"PAYMENT.CAPTURE.REFUNDED","resource":{"id":"R1","amount":{"currency_code":"USD","value":"-1.001"},"links":[{"rel":"up","href":"/v2/payments/captures/"}]}}`))
	f.Add([]byte(`{"id":"WH-4","event_type":"PAYMENT.CAPTURE.DENIED","resource":{"id":"CAP2","status":"DECLINED","amount":{"currency_code":"XXX","value":"1e9"}}}`))
	f.Add([]byte(`{"id":"","event_type":"CHECKOUT.ORDER.APPROVED","resource":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := PayPalEvent(body)
		if ev.Provider != provider.PayPal {
			t.Fatalf("provider %q", ev.Provider)
		}
		if err != nil {
			return
		}
		if ev.ID == "" {
			t.Fatal("accepted an event without an id")
		}
		switch ev.Type {
		case provider.EventChargeSucceeded, provider.EventChargePending, provider.EventChargeFailed, provider.EventChargeRefunded:
			if ev.Amount.IsNegative() || ev.Currency == "" {
				t.Fatalf("%s with amount %s %q", ev.Type, ev.Amount, ev.Currency)
			}
			if !money.IsRounded(ev.Amount, ev.Currency) {
				t.Fatalf("%s amount %s is finer than %s's minor unit", ev.Type, ev.Amount, ev.Currency)
			}
		}
	})
}
