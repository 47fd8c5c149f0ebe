// Package apikey creates, verifies, rotates and revokes API keys. Only a SHA-256 hash of each
// secret is stored; verification compares hashes in constant time.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Scope names a permission; see internal/api for the scopes routes declare.
type Scope = string

// KnownScopes are the scopes a key can be given.
var KnownScopes = []Scope{"events:write", "read", "write", "admin"}

// Key is a stored API key (never the secret itself).
type Key struct {
	ID         string
	Name       string
	Prefix     string // public part of the key, shown in lists and logs
	Scopes     []Scope
	RateLimit  int // requests per second; 0 means unlimited
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
	secretHash []byte
}

// Allows reports whether the key grants scope; admin grants everything.
func (k *Key) Allows(scope Scope) bool {
	return slices.Contains(k.Scopes, "admin") || slices.Contains(k.Scopes, scope)
}

// Active reports whether the key can be used at now.
func (k *Key) Active(now time.Time) bool {
	if k.RevokedAt != nil && !k.RevokedAt.After(now) {
		return false
	}
	return k.ExpiresAt == nil || k.ExpiresAt.After(now)
}

// ErrInvalid is returned for a malformed, unknown, revoked or expired key; callers answer 401
// without telling which, so a guesser learns nothing.
var ErrInvalid = errors.New("invalid API key")

const keyPrefix = "rh_"

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// Generate makes a new key string "rh_<prefix>_<secret>" and returns it with its prefix and hash.
func Generate() (full, prefix string, hash []byte, err error) {
	p := make([]byte, 5)
	s := make([]byte, 20)
	if _, err := rand.Read(p); err != nil {
		return "", "", nil, fmt.Errorf("generate key: %w", err)
	}
	if _, err := rand.Read(s); err != nil {
		return "", "", nil, fmt.Errorf("generate key: %w", err)
	}
	prefix = strings.ToLower(enc.EncodeToString(p))
	full = keyPrefix + prefix + "_" + strings.ToLower(enc.EncodeToString(s))
	return full, prefix, Hash(full), nil
}

// Hash is the stored form of a key.
func Hash(full string) []byte {
	h := sha256.Sum256([]byte(full))
	return h[:]
}

// ParsePrefix extracts the lookup prefix from a presented key.
func ParsePrefix(full string) (string, error) {
	rest, ok := strings.CutPrefix(full, keyPrefix)
	if !ok {
		return "", ErrInvalid
	}
	prefix, secret, ok := strings.Cut(rest, "_")
	if !ok || len(prefix) != 8 || len(secret) != 32 {
		return "", ErrInvalid
	}
	return prefix, nil
}

// Matches compares a presented key with the stored hash in constant time.
func (k *Key) Matches(full string) bool {
	return subtle.ConstantTimeCompare(Hash(full), k.secretHash) == 1
}

// ValidateScopes checks that every scope is known and at least one is given.
func ValidateScopes(scopes []Scope) error {
	if len(scopes) == 0 {
		return fmt.Errorf("scopes: at least one of %s is required", strings.Join(KnownScopes, ", "))
	}
	for i, s := range scopes {
		if !slices.Contains(KnownScopes, s) {
			return fmt.Errorf("scopes[%d]: %q is not one of %s", i, s, strings.Join(KnownScopes, ", "))
		}
	}
	return nil
}
