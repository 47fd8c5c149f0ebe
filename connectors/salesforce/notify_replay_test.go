package salesforce

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestReplayWithDecoratedSignatureHeader: appending parts to a captured signature header, or
// resigning the same delivery with the previous secret, does not make it a new delivery.
func TestReplayWithDecoratedSignatureHeader(t *testing.T) {
	now := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	v := &Verifier{Secrets: [][]byte{[]byte("new-secret"), []byte("old-secret")}, Now: func() time.Time { return now }}
	body := `{"notification_id":"04l000000000002","opportunity_ids":["0065g00000acme1AAA"]}`
	ctx := context.Background()
	h := signed("new-secret", now, body)
	if _, err := v.Verify(ctx, h, []byte(body)); err != nil {
		t.Fatal(err)
	}
	sig := h.Get(HeaderSignature)
	for _, hdr := range []string{sig + ",v1=00", "v1=ff, " + sig, sig + "," + sig, sig + " "} {
		h.Set(HeaderSignature, hdr)
		if _, err := v.Verify(ctx, h, []byte(body)); !errors.Is(err, ErrReplay) {
			t.Errorf("replay with header %q: %v, want ErrReplay", hdr, err)
		}
	}
	if _, err := v.Verify(ctx, signed("old-secret", now, body), []byte(body)); !errors.Is(err, ErrReplay) {
		t.Errorf("same delivery signed with the previous secret: %v, want ErrReplay", err)
	}
}
