package apikey_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revhub/revhub/internal/apikey"
	"github.com/revhub/revhub/internal/dbtest"
)

func TestCreateVerifyList(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	now := time.Now()
	c, err := apikey.Create(ctx, d.Pool, "usage-sender", []apikey.Scope{"events:write"}, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Key.ID != "key_"+c.Key.Prefix || !strings.HasPrefix(c.Secret, "rh_"+c.Key.Prefix+"_") {
		t.Fatalf("created %+v with secret of the wrong shape", c.Key)
	}
	k, err := apikey.Verify(ctx, d.Pool, c.Secret, now)
	if err != nil {
		t.Fatal(err)
	}
	if k.ID != c.Key.ID || k.Name != "usage-sender" || !slices.Equal(k.Scopes, []string{"events:write"}) || k.RateLimit != 50 {
		t.Fatalf("verified %+v", k)
	}
	// Only the hash is stored: the secret appears nowhere in the row.
	var row string
	if err := d.Pool.QueryRow(ctx, `SELECT row_to_json(k)::text FROM api_keys k WHERE id = $1`, c.Key.ID).Scan(&row); err != nil {
		t.Fatal(err)
	}
	secretPart := c.Secret[len("rh_")+8+1:]
	if strings.Contains(row, secretPart) || strings.Contains(row, c.Secret) {
		t.Fatalf("the stored row holds the secret: %s", row)
	}
	keys, err := apikey.List(ctx, d.Pool)
	if err != nil || len(keys) != 1 || keys[0].ID != c.Key.ID {
		t.Fatalf("list: %+v %v", keys, err)
	}
}

func TestCreateRefusesBadInput(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		scopes []apikey.Scope
		rate   int
		want   string
	}{
		{"", []apikey.Scope{"read"}, 0, "name: must not be empty"},
		{"k", nil, 0, "scopes: at least one"},
		{"k", []apikey.Scope{"read", "root"}, 0, `scopes[1]: "root"`},
		{"k", []apikey.Scope{"read"}, -1, "rate_limit: must not be negative"},
	}
	for _, c := range cases {
		if _, err := apikey.Create(ctx, d.Pool, c.name, c.scopes, c.rate, nil); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Create(%q, %v, %d) = %v, want %q", c.name, c.scopes, c.rate, err, c.want)
		}
	}
	if keys, _ := apikey.List(ctx, d.Pool); len(keys) != 0 {
		t.Fatalf("refused keys were stored: %+v", keys)
	}
}

func TestVerifyRefusesMalformedUnknownAndWrongSecret(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	c, err := apikey.Create(ctx, d.Pool, "reader", []apikey.Scope{"read"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _, _, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	wrongSecret := c.Secret[:len(c.Secret)-4] + "aaaa"
	if wrongSecret == c.Secret {
		wrongSecret = c.Secret[:len(c.Secret)-4] + "bbbb"
	}
	for name, raw := range map[string]string{
		"empty":                    "",
		"malformed":                "not-a-key",
		"unknown prefix":           other,
		"known prefix, bad secret": wrongSecret,
		"with whitespace":          c.Secret + " ",
		"upper case":               strings.ToUpper(c.Secret),
	} {
		// Unknown prefix and wrong secret answer the same error: a guesser cannot tell them apart.
		if _, err := apikey.Verify(ctx, d.Pool, raw, time.Now()); !errors.Is(err, apikey.ErrInvalid) || err.Error() != "invalid API key" {
			t.Errorf("%s: Verify = %v, want ErrInvalid", name, err)
		}
	}
}

func TestExpiry(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	now := time.Now()
	exp := now.Add(time.Hour)
	c, err := apikey.Create(ctx, d.Pool, "temp", []apikey.Scope{"read"}, 0, &exp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apikey.Verify(ctx, d.Pool, c.Secret, now.Add(59*time.Minute)); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	if _, err := apikey.Verify(ctx, d.Pool, c.Secret, now.Add(61*time.Minute)); !errors.Is(err, apikey.ErrInvalid) {
		t.Fatalf("after expiry: %v", err)
	}
}

func TestRevokeIsImmediateAndKeepsTheFirstTime(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Microsecond)
	c, err := apikey.Create(ctx, d.Pool, "ops", []apikey.Scope{"admin"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := apikey.Revoke(ctx, d.Pool, c.Key.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := apikey.Verify(ctx, d.Pool, c.Secret, now); !errors.Is(err, apikey.ErrInvalid) {
		t.Fatalf("revoked key verified: %v", err)
	}
	// Revoking again (a retried request) succeeds and keeps the first revocation time.
	if err := apikey.Revoke(ctx, d.Pool, c.Key.ID, now.Add(time.Hour)); err != nil {
		t.Fatalf("second revoke: %v", err)
	}
	keys, _ := apikey.List(ctx, d.Pool)
	if len(keys) != 1 || keys[0].RevokedAt == nil || !keys[0].RevokedAt.Equal(now) {
		t.Fatalf("after two revokes: %+v", keys)
	}
	if err := apikey.Revoke(ctx, d.Pool, "key_missing1", now); !errors.Is(err, apikey.ErrNotFound) || !strings.HasPrefix(err.Error(), `id: "key_missing1"`) {
		t.Fatalf("revoke unknown: %v", err)
	}
}

func TestRotateWithoutDowntime(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	now := time.Now()
	old, err := apikey.Create(ctx, d.Pool, "usage-sender", []apikey.Scope{"events:write", "read"}, 20, nil)
	if err != nil {
		t.Fatal(err)
	}
	grace := 10 * time.Minute
	repl, err := apikey.Rotate(ctx, d.Pool, old.Key.ID, now, grace)
	if err != nil {
		t.Fatal(err)
	}
	if repl.Key.ID == old.Key.ID || repl.Secret == old.Secret || repl.Key.Name != "usage-sender" ||
		!slices.Equal(repl.Key.Scopes, old.Key.Scopes) || repl.Key.RateLimit != 20 {
		t.Fatalf("replacement %+v does not carry the old key's name, scopes and limit", repl.Key)
	}
	// During the grace period both keys work, so senders switch at their own pace.
	for _, at := range []time.Duration{0, grace - time.Second} {
		for name, secret := range map[string]string{"old": old.Secret, "new": repl.Secret} {
			if _, err := apikey.Verify(ctx, d.Pool, secret, now.Add(at)); err != nil {
				t.Fatalf("%s key at +%s: %v", name, at, err)
			}
		}
	}
	// After it only the new key works.
	if _, err := apikey.Verify(ctx, d.Pool, old.Secret, now.Add(grace+time.Second)); !errors.Is(err, apikey.ErrInvalid) {
		t.Fatalf("old key after grace: %v", err)
	}
	if _, err := apikey.Verify(ctx, d.Pool, repl.Secret, now.Add(grace+time.Second)); err != nil {
		t.Fatalf("new key after grace: %v", err)
	}
	// Rotating the old key again (a retried request) mints no second replacement.
	if _, err := apikey.Rotate(ctx, d.Pool, old.Key.ID, now.Add(time.Second), grace); !errors.Is(err, apikey.ErrNotRotatable) {
		t.Fatalf("second rotation: %v", err)
	}
	if keys, _ := apikey.List(ctx, d.Pool); len(keys) != 2 {
		t.Fatalf("%d keys after a retried rotation, want 2", len(keys))
	}
	// A key already revoked cannot be rotated; rotating an unknown id names it.
	if err := apikey.Revoke(ctx, d.Pool, repl.Key.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := apikey.Rotate(ctx, d.Pool, repl.Key.ID, now.Add(time.Second), grace); !errors.Is(err, apikey.ErrNotRotatable) || !strings.HasPrefix(err.Error(), "id: ") {
		t.Fatalf("rotate revoked: %v", err)
	}
	if _, err := apikey.Rotate(ctx, d.Pool, "key_nosuch01", now, grace); !errors.Is(err, apikey.ErrNotFound) || !strings.Contains(err.Error(), `"key_nosuch01"`) {
		t.Fatalf("rotate unknown: %v", err)
	}
}

func TestTouchAtMostOncePerMinute(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Microsecond)
	c, err := apikey.Create(ctx, d.Pool, "reader", []apikey.Scope{"read"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func() time.Time {
		keys, err := apikey.List(ctx, d.Pool)
		if err != nil || len(keys) != 1 || keys[0].LastUsedAt == nil {
			t.Fatalf("list: %+v %v", keys, err)
		}
		return *keys[0].LastUsedAt
	}
	for _, at := range []time.Duration{0, 30 * time.Second} {
		if err := apikey.Touch(ctx, d.Pool, c.Key.ID, now.Add(at)); err != nil {
			t.Fatal(err)
		}
	}
	if got := lastUsed(); !got.Equal(now) {
		t.Fatalf("last used %s, want %s (a touch within a minute changes nothing)", got, now)
	}
	if err := apikey.Touch(ctx, d.Pool, c.Key.ID, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(now.Add(2 * time.Minute)) {
		t.Fatalf("last used %s after two minutes", got)
	}
}
