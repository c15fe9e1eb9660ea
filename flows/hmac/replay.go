package hmac

import (
	"sync"
	"time"
)

// DefaultTolerance is how far created / a webhook timestamp may be from the
// verifier's clock.
const DefaultTolerance = 300 * time.Second

// DefaultNonceCacheSize bounds the nonces a NonceCache remembers.
const DefaultNonceCacheSize = 10000

// NonceCache remembers nonces until they expire so a replayed request is
// refused. It is bounded: when full of unexpired entries it forgets the
// oldest, so size it above the requests expected per tolerance window.
type NonceCache struct {
	mu    sync.Mutex
	max   int
	seen  map[string]time.Time // nonce → when it may be forgotten
	order []nonceEntry         // insertion order, for expiry and eviction
}

type nonceEntry struct {
	nonce string
	until time.Time
}

// NewNonceCache returns a cache holding at most max nonces (DefaultNonceCacheSize when max ≤ 0).
func NewNonceCache(max int) *NonceCache {
	if max <= 0 {
		max = DefaultNonceCacheSize
	}
	return &NonceCache{max: max, seen: make(map[string]time.Time)}
}

// Use records nonce as seen until `until` and reports whether it was fresh.
// A nonce seen before and not yet expired returns false.
func (c *NonceCache) Use(nonce string, now, until time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	if exp, ok := c.seen[nonce]; ok && now.Before(exp) {
		return false
	}
	for len(c.seen) >= c.max && len(c.order) > 0 {
		c.drop()
	}
	c.seen[nonce] = until
	c.order = append(c.order, nonceEntry{nonce, until})
	return true
}

// Len is the number of nonces remembered.
func (c *NonceCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

func (c *NonceCache) expire(now time.Time) {
	// Entries are added with until = now + window, so they expire roughly
	// in insertion order; stop at the first live one.
	for len(c.order) > 0 && !now.Before(c.order[0].until) {
		c.drop()
	}
}

func (c *NonceCache) drop() {
	e := c.order[0]
	c.order = c.order[1:]
	if exp, ok := c.seen[e.nonce]; ok && exp.Equal(e.until) {
		delete(c.seen, e.nonce)
	}
	if cap(c.order) > 2*c.max && len(c.order) < c.max/2 {
		c.order = append([]nonceEntry(nil), c.order...) // let the old array go
	}
}
