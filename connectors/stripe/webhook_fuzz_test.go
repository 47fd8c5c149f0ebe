package stripe_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	stripe "github.com/stripe/stripe-go/v82"

	"github.com/revhub/revhub/connectors/provider"
	rstripe "github.com/revhub/revhub/connectors/stripe"
	"github.com/revhub/revhub/connectors/stripe/fake"
	"github.com/revhub/revhub/mappings"
)

// FuzzStripeWebhook feeds arbitrary payloads and Stripe-Signature headers to the verifier and the
// event mapping. A forged header never verifies; a correctly signed payload is mapped without
// panicking, and a mapped charge event carries a non-negative amount and a currency.
func FuzzStripeWebhook(f *testing.F) {
	const whsec = "whsec_fuzz_secret"
	f.Add([]byte(`{"id":"evt_1","object":"event","api_version":"`+stripeAPIVersion+`","created":1764000000,"type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent","amount":6000,"currency":"usd","status":"succeeded","metadata":{"invoice_id":"INV-1","revhub_key":"invoice:INV-1:charge:1"}}}}`), "t=1,v1=00")
	f.Add([]byte(`{"id":"evt_2","object":"event","api_version":"`+stripeAPIVersion+`","type":"charge.refunded","data":{"object":{"id":"ch_1","object":"charge","amount_refunded":-5,"currency":"bhd","payment_intent":"pi_1"}}}`), "")
	f.Add([]byte(`{"id":"evt_3","object":"event","api_version":"`+stripeAPIVersion+`","type":"payment_intent.payment_failed","data":{"object":{"amount":"x"}}}`), "v1=,t=")
	f.Add([]byte(`{"id":"evt_4","api_version":"2019-01-01","type":"x","data":null}`), "t=99999999999999999999,v1=zz")
	f.Add([]byte(`[]`), "t=1764000000,v1=a,v1=b,v0=c")
	f.Add([]byte(`{"id":"evt_5","object":"event","api_version":"`+stripeAPIVersion+`","type":"payment_intent.processing","data":{"object":{"id":"pi_2","object":"payment_intent","amount":-100,"currency":"eur","status":"processing"}}}`), "")
	v, err := rstripe.NewVerifier(whsec, 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, payload []byte, header string) {
		if _, err := v.Verify(payload, header); err == nil && !signedBy(whsec, payload, header) {
			t.Fatalf("header %q verified without a valid signature", header)
		}
		ev, err := v.Verify(payload, fake.Sign(payload, whsec, time.Now()))
		if err != nil {
			return
		}
		out, err := mappings.StripeEvent(ev)
		if err != nil {
			return
		}
		if out.Provider != provider.Stripe || out.ID != ev.ID {
			t.Fatalf("mapped %+v from event %s", out, ev.ID)
		}
		switch out.Type {
		case provider.EventChargeSucceeded, provider.EventChargePending, provider.EventChargeFailed, provider.EventChargeRefunded:
			if out.Amount.IsNegative() || out.Currency == "" {
				t.Fatalf("charge event with amount %s %q", out.Amount, out.Currency)
			}
		}
	})
}

// stripeAPIVersion is the API version stripe-go accepts in webhook events.
var stripeAPIVersion = apiVersion()

// signedBy reports whether header holds a v1 signature of payload by secret at its t= time.
func signedBy(secret string, payload []byte, header string) bool {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(payload)
	want := hex.EncodeToString(mac.Sum(nil))
	for _, s := range sigs {
		if s == want {
			return true
		}
	}
	return false
}

func apiVersion() string { return stripe.APIVersion }
