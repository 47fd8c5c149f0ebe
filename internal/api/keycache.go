package api

import (
	"context"
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

// forget drops every cached entry of key id, so a revocation is honoured at once by this process.
func (c *keyCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.m {
		if e.key.ID == id {
			delete(c.m, h)
		}
	}
}

type keyCacheCtx struct{}

// withKeyCache lets handlers reach the serving process's key cache (to forget a revoked key).
func withKeyCache(ctx context.Context, c *keyCache) context.Context {
	return context.WithValue(ctx, keyCacheCtx{}, c)
}

// forgetCachedKey drops key id from the key cache of the process serving ctx; other processes
// stop accepting it when their cache entry expires (at most the cache TTL, 5 s).
func forgetCachedKey(ctx context.Context, id string) {
	if c, ok := ctx.Value(keyCacheCtx{}).(*keyCache); ok {
		c.forget(id)
	}
}
