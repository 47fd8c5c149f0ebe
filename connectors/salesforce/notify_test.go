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

func signed(secret string, ts time.Time, body string) http.Header {
	h := http.Header{}
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, Sign([]byte(secret), ts, []byte(body)))
	return h
}

func TestVerifierAcceptsSignedNotificationOnce(t *testing.T) {
	now := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	v := &Verifier{Secrets: [][]byte{[]byte("new-secret"), []byte("old-secret")}, Now: func() time.Time { return now }}
	body := `{"notification_id":"04l000000000001","opportunity_ids":["0065g00000acme1AAA"]}`
	ctx := context.Background()

	n, err := v.Verify(ctx, signed("old-secret", now.Add(-time.Minute), body), []byte(body))
	if err != nil || n.ID != "04l000000000001" || len(n.OpportunityIDs) != 1 {
		t.Fatalf("Verify = %+v, %v", n, err)
	}
	if _, err := v.Verify(ctx, signed("old-secret", now.Add(-time.Minute), body), []byte(body)); !errors.Is(err, ErrReplay) {
		t.Errorf("replay err = %v", err)
	}
	if _, err := v.Verify(ctx, signed("new-secret", now, body), []byte(body)); err != nil {
		t.Errorf("same body signed at another time is a new delivery: %v", err)
	}
}

func TestVerifierRejections(t *testing.T) {
	now := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	body := `{"notification_id":"n1","opportunity_ids":["0065g00000acme1AAA"]}`
	cases := []struct {
		name   string
		header http.Header
		body   string
		want   error
		text   string
	}{
		{"no headers", http.Header{}, body, ErrMissingSignature, ""},
		{"wrong secret", signed("guess", now, body), body, ErrBadSignature, ""},
		{"tampered body", signed("s3cret", now, body), strings.Replace(body, "acme1", "acme2", 1), ErrBadSignature, ""},
		{"too old", signed("s3cret", now.Add(-6*time.Minute), body), body, ErrStale, ""},
		{"from the future", signed("s3cret", now.Add(6*time.Minute), body), body, ErrStale, ""},
		{"bad payload", signed("s3cret", now, `{"opportunity_ids":["001x"]}`), `{"opportunity_ids":["001x"]}`, nil, "notification_id: required\nopportunity_ids[0]: \"001x\" is not an Opportunity id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := &Verifier{Secrets: [][]byte{[]byte("s3cret")}, Now: func() time.Time { return now }}
			_, err := v.Verify(context.Background(), tc.header, []byte(tc.body))
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err = %v, want %v %q", err, tc.want, tc.text)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}
