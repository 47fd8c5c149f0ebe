package mappings

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	stripe "github.com/stripe/stripe-go/v82"

	"github.com/revhub/revhub/connectors/provider"
)

func stripeEvent(t *testing.T, typ, object string) stripe.Event {
	t.Helper()
	var ev stripe.Event
	raw := `{"id":"evt_1","object":"event","created":1764000000,"type":"` + typ + `","data":{"object":` + object + `}}`
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

const piJSON = `{"id":"pi_1","object":"payment_intent","amount":%d,"currency":"%s","created":1763990000,"status":"%s",
	"metadata":{"invoice_id":"inv_1","revhub_key":"invoice:inv_1:charge:2","attempt":"2"},
	"last_payment_error":%s}`

func TestStripeEvent(t *testing.T) {
	cases := []struct {
		name, typ, object string
		want              provider.Event
		wantErr           string
	}{
		{"succeeded", "payment_intent.succeeded", fmtJSON(piJSON, 12550, "usd", "succeeded", "null"), provider.Event{
			Type: provider.EventChargeSucceeded, ChargeProviderID: "pi_1", Key: "invoice:inv_1:charge:2", InvoiceID: "inv_1",
			Amount: decimal.RequireFromString("125.50"), Currency: "USD", OccurredAt: time.Unix(1763990000, 0).UTC()}, ""},
		{"zero-decimal currency", "payment_intent.succeeded", fmtJSON(piJSON, 5000, "jpy", "succeeded", "null"), provider.Event{
			Type: provider.EventChargeSucceeded, ChargeProviderID: "pi_1", Key: "invoice:inv_1:charge:2", InvoiceID: "inv_1",
			Amount: decimal.RequireFromString("5000"), Currency: "JPY", OccurredAt: time.Unix(1763990000, 0).UTC()}, ""},
		{"failed", "payment_intent.payment_failed", fmtJSON(piJSON, 100, "eur", "requires_payment_method", `{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}`), provider.Event{
			Type: provider.EventChargeFailed, ChargeProviderID: "pi_1", Key: "invoice:inv_1:charge:2", InvoiceID: "inv_1",
			Amount: decimal.RequireFromString("1"), Currency: "EUR", FailureCode: "insufficient_funds", FailureMessage: "Your card has insufficient funds.",
			OccurredAt: time.Unix(1764000000, 0).UTC()}, ""},
		{"processing", "payment_intent.processing", fmtJSON(piJSON, 100, "usd", "processing", "null"), provider.Event{
			Type: provider.EventChargePending, ChargeProviderID: "pi_1", Key: "invoice:inv_1:charge:2", InvoiceID: "inv_1",
			Amount: decimal.RequireFromString("1"), Currency: "USD", OccurredAt: time.Unix(1764000000, 0).UTC()}, ""},
		{"refunded total", "charge.refunded", `{"id":"ch_1","object":"charge","amount":12550,"amount_refunded":2550,"currency":"usd","payment_intent":"pi_1","metadata":{"invoice_id":"inv_1"}}`, provider.Event{
			Type: provider.EventChargeRefunded, ChargeProviderID: "pi_1", InvoiceID: "inv_1", RefundedTotal: true,
			Amount: decimal.RequireFromString("25.50"), Currency: "USD", OccurredAt: time.Unix(1764000000, 0).UTC()}, ""},
		{"other type", "customer.created", `{"id":"cus_1","object":"customer"}`, provider.Event{Type: provider.EventOther, OccurredAt: time.Unix(1764000000, 0).UTC()}, ""},
		{"unknown currency", "payment_intent.succeeded", fmtJSON(piJSON, 100, "xxx", "succeeded", "null"), provider.Event{}, "currency"},
		{"refund without payment intent", "charge.refunded", `{"id":"ch_1","object":"charge","amount_refunded":5,"currency":"usd"}`, provider.Event{}, "payment_intent: is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := StripeEvent(stripeEvent(t, c.typ, c.object))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.want.Provider, c.want.ID, c.want.ProviderType = provider.Stripe, "evt_1", c.typ
			if !equalEvent(got, c.want) {
				t.Fatalf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func equalEvent(a, b provider.Event) bool {
	am, bm := a.Amount, b.Amount
	a.Amount, b.Amount = decimal.Zero, decimal.Zero
	return am.Equal(bm) && a == b
}
