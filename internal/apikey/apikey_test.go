package apikey

import (
	"strings"
	"testing"
	"time"
)

func TestAllowsByScope(t *testing.T) {
	cases := []struct {
		scopes []Scope
		allow  map[Scope]bool
	}{
		{[]Scope{"events:write"}, map[Scope]bool{"events:write": true, "read": false, "write": false, "admin": false}},
		{[]Scope{"read"}, map[Scope]bool{"events:write": false, "read": true, "write": false, "admin": false}},
		{[]Scope{"write"}, map[Scope]bool{"events:write": false, "read": false, "write": true, "admin": false}},
		{[]Scope{"read", "write"}, map[Scope]bool{"events:write": false, "read": true, "write": true, "admin": false}},
		{[]Scope{"admin"}, map[Scope]bool{"events:write": true, "read": true, "write": true, "admin": true}},
	}
	for _, c := range cases {
		k := Key{Scopes: c.scopes}
		for scope, want := range c.allow {
			if got := k.Allows(scope); got != want {
				t.Errorf("key with %v: Allows(%q) = %v, want %v", c.scopes, scope, got, want)
			}
		}
	}
}

func TestActive(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	before, after := now.Add(-time.Second), now.Add(time.Second)
	cases := []struct {
		name    string
		expires *time.Time
		revoked *time.Time
		want    bool
	}{
		{"plain", nil, nil, true},
		{"expires later", &after, nil, true},
		{"expired", &before, nil, false},
		{"expires exactly now", &now, nil, false},
		{"revoked earlier", nil, &before, false},
		{"revoked exactly now", nil, &now, false},
		{"revocation scheduled (rotation grace)", nil, &after, true},
	}
	for _, c := range cases {
		k := Key{ExpiresAt: c.expires, RevokedAt: c.revoked}
		if got := k.Active(now); got != c.want {
			t.Errorf("%s: Active = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestGenerateAndParse(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		full, prefix, hash, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(full, "rh_"+prefix+"_") || len(full) != len("rh_")+8+1+32 {
			t.Fatalf("key %q (prefix %q) is not rh_<8>_<32>", full, prefix)
		}
		if seen[full] || seen[prefix] {
			t.Fatalf("duplicate key or prefix %q", prefix)
		}
		seen[full], seen[prefix] = true, true
		got, err := ParsePrefix(full)
		if err != nil || got != prefix {
			t.Fatalf("ParsePrefix(%q) = %q, %v", full, got, err)
		}
		k := Key{secretHash: hash}
		if !k.Matches(full) {
			t.Fatal("generated key does not match its own hash")
		}
		flipped := full[:len(full)-1] + "a"
		if full[len(full)-1] == 'a' {
			flipped = full[:len(full)-1] + "b"
		}
		if flipped == full || k.Matches(flipped) {
			t.Fatalf("a key differing in its last character matches: %q vs %q", flipped, full)
		}
	}
}

func TestParsePrefixRejectsMalformed(t *testing.T) {
	for _, raw := range []string{
		"",
		"rh_",
		"rh_abcdefgh",
		"rh_abcdefgh_",
		"rh_abcdefgh_short",
		"rh_abcdefg_abcdefghijklmnopqrstuvwxyz234567",   // 7-char prefix
		"rh_abcdefghi_abcdefghijklmnopqrstuvwxyz23456",  // 9-char prefix
		"rh_abcdefgh_abcdefghijklmnopqrstuvwxyz2345678", // 33-char secret
		"xx_abcdefgh_abcdefghijklmnopqrstuvwxyz234567",
		"Bearer rh_abcdefgh_abcdefghijklmnopqrstuvwxyz234567",
		"sk_live_abcdefghabcdefghijklmnopqrstuvwxyz234567",
	} {
		if _, err := ParsePrefix(raw); err != ErrInvalid {
			t.Errorf("ParsePrefix(%q) = %v, want ErrInvalid", raw, err)
		}
	}
}

func TestValidateScopesNamesTheEntry(t *testing.T) {
	if err := ValidateScopes([]Scope{"read", "events:write", "write", "admin"}); err != nil {
		t.Fatalf("known scopes refused: %v", err)
	}
	if err := ValidateScopes(nil); err == nil || !strings.HasPrefix(err.Error(), "scopes:") {
		t.Fatalf("no scopes: %v", err)
	}
	err := ValidateScopes([]Scope{"read", "superuser"})
	if err == nil || !strings.HasPrefix(err.Error(), `scopes[1]: "superuser" is not one of`) {
		t.Fatalf("unknown scope: %v", err)
	}
}
