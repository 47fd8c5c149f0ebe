package api

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/revhub/revhub/internal/apikey"
)

// keyCache remembers verified keys briefly so hot paths (event ingestion) do not hit the
// database per request; a revocation takes effect within the TTL.
type keyCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[[32]byte]cachedKey
}

type cachedKey struct {
	key apikey.Key
	at  time.Time
}

func newKeyCache(ttl time.Duration) *keyCache {
	return &keyCache{ttl: ttl, m: make(map[[32]byte]cachedKey)}
}

func (c *keyCache) get(raw string, now time.Time) (apikey.Key, bool) {
	h := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[h]
	if !ok || now.Sub(e.at) > c.ttl || !e.key.Active(now) {
		return apikey.Key{}, false
	}
	return e.key, true
}

func (c *keyCache) put(raw string, k apikey.Key, now time.Time) {
	h := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 10000 {
		clear(c.m)
	}
	c.m[h] = cachedKey{key: k, at: now}
}
