package netsuite

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestExternalID(t *testing.T) {
	tests := []struct{ key, want string }{
		{"invoice:inv_1:finalized", "rh-invoice_-inv__1_-finalized"},
		{"payment:pay-9:captured", "rh-payment_-pay-9_-captured"},
		{"revrec:obl_1:2026-11", "rh-revrec_-obl__1_-2026-11"},
		{"invoice:INV 1:finalized", "rh-invoice_-_49_4e_56_201_-finalized"},
		{"reversal:invoice:x:finalized", "rh-reversal_-invoice_-x_-finalized"},
	}
	for _, tt := range tests {
		got := ExternalID(tt.key)
		if got != tt.want || !ValidExternalID(got) {
			t.Errorf("ExternalID(%q) = %q, want %q", tt.key, got, tt.want)
		}
		if back, ok := KeyFromExternalID(got); !ok || back != tt.key {
			t.Errorf("KeyFromExternalID(%q) = %q %v", got, back, ok)
		}
	}
	// Keys that a naive replacement would merge stay apart, even ignoring case.
	seen := map[string]string{}
	for _, k := range []string{"a:b", "a_b", "a-b", "a__b", "a_-b", "A:b", "a:B", "a_3ab"} {
		id := strings.ToLower(ExternalID(k))
		if other, dup := seen[id]; dup {
			t.Errorf("%q and %q both map to %q", k, other, id)
		}
		seen[id] = k
	}
	long := strings.Repeat("x:", 150)
	if id := ExternalID(long); !strings.HasPrefix(id, "rhh-") || len(id) != 68 || !ValidExternalID(id) {
		t.Errorf("long key: %q", id)
	}
	if _, ok := KeyFromExternalID("rhh-abc"); ok {
		t.Error("hashed id decoded")
	}
}

func TestBackoff(t *testing.T) {
	resp := func(status int, retryAfter string) *http.Response {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &http.Response{StatusCode: status, Header: h}
	}
	if d := backoff(time.Second, time.Minute, 0, resp(429, "7")); d != 7*time.Second {
		t.Errorf("Retry-After 7: waited %s", d)
	}
	if d := backoff(time.Second, 5*time.Second, 0, resp(429, "120")); d != 5*time.Second {
		t.Errorf("Retry-After capped: waited %s", d)
	}
	date := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	if d := backoff(time.Second, time.Minute, 0, resp(503, date)); d < 28*time.Second || d > 30*time.Second {
		t.Errorf("Retry-After date: waited %s", d)
	}
	for attempt := range 8 {
		d := backoff(100*time.Millisecond, 2*time.Second, attempt, resp(500, ""))
		ceiling := min(100*time.Millisecond<<attempt, 2*time.Second)
		if d < ceiling/2 || d > ceiling {
			t.Errorf("attempt %d: %s outside [%s, %s]", attempt, d, ceiling/2, ceiling)
		}
	}
}

func TestConfig(t *testing.T) {
	err := Config{AccountID: "bad id!", PageSize: 5000}.Validate()
	for _, f := range []string{"account_id", "consumer_key", "consumer_secret", "token_id", "token_secret", "page_size"} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("no problem named %s in %v", f, err)
		}
	}
	c := Config{AccountID: "1234567-sb1", Credentials: Credentials{ConsumerKey: "ck", ConsumerSecret: "SECRET1", TokenID: "tid", TokenSecret: "SECRET2"}}
	if c.Realm() != "1234567_SB1" || c.baseURL() != "https://1234567-sb1.suitetalk.api.netsuite.com" {
		t.Errorf("realm %s base %s", c.Realm(), c.baseURL())
	}
	if s := c.String(); strings.Contains(s, "SECRET") {
		t.Errorf("config prints a secret: %s", s)
	}
}
