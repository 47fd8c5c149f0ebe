package salesforce

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzVerifyNotification feeds arbitrary bodies and extra signature parts to the push
// notification verifier. A correctly signed body is accepted at most once (any later delivery of
// it, whatever parts are appended to its signature header, is a replay); an accepted notification
// carries an id and only Opportunity ids; a header without the right signature never verifies.
func FuzzVerifyNotification(f *testing.F) {
	f.Add([]byte(`{"notification_id":"n1","opportunity_ids":["0065g00000starkAAA"]}`), "")
	f.Add([]byte(`{"notification_id":"n1","opportunity_ids":["0065g00000starkAAA","0065g00000acme1AAA"]}`), ",v1=00")
	f.Add([]byte(`{"notification_id":"","opportunity_ids":["001000000000001AAA"],"x":1}`), " ")
	f.Add([]byte(`{"notification_id":"n2","opportunity_ids":[]}`), ",,")
	f.Add([]byte(`[`), "v1=")
	secret := []byte("fuzz-shared-secret")
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte, extra string) {
		ctx := context.Background()
		v := &Verifier{Secrets: [][]byte{secret}, Now: func() time.Time { return now }}
		sig := Sign(secret, now, body)
		h := http.Header{HeaderTimestamp: {strconv.FormatInt(now.Unix(), 10)}, HeaderSignature: {sig}}
		n, err := v.Verify(ctx, h, body)
		if err == nil {
			if n.ID == "" || len(n.OpportunityIDs) == 0 {
				t.Fatalf("accepted %+v without an id or opportunities", n)
			}
			for _, id := range n.OpportunityIDs {
				if !ValidID(id) || !strings.HasPrefix(id, "006") {
					t.Fatalf("accepted opportunity id %q", id)
				}
			}
		} else if errors.Is(err, ErrBadSignature) || errors.Is(err, ErrStale) || errors.Is(err, ErrReplay) || errors.Is(err, ErrMissingSignature) {
			t.Fatalf("correctly signed fresh body refused as unauthentic: %v", err)
		}
		// Whatever the body, the same signature again, with any parts appended, is a replay.
		hdr := sig + extra
		h.Set(HeaderSignature, hdr)
		_, err = v.Verify(ctx, h, body)
		signed := false
		for _, p := range strings.Split(hdr, ",") {
			signed = signed || strings.TrimSpace(p) == sig
		}
		if signed && !errors.Is(err, ErrReplay) {
			t.Fatalf("second delivery with signature header %q: %v, want ErrReplay", hdr, err)
		}
		if !signed && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("signature header %q without the signature: %v, want ErrBadSignature", hdr, err)
		}
		// A header made only of the extra parts never verifies (unless it happens to contain the signature).
		if !strings.Contains(extra, sig) {
			h.Set(HeaderSignature, extra)
			if _, err := (&Verifier{Secrets: [][]byte{secret}, Now: func() time.Time { return now }}).Verify(ctx, h, body); err == nil {
				t.Fatalf("header %q verified without the signature", extra)
			}
		}
	})
}
