package xmpp

import (
	"sync"
	"time"
)

// rateLimiter is a token bucket per key (a bare JID): rate tokens a
// second, a burst of max(1, rate). Idle full buckets are forgotten, so
// the map stays as large as the set of recent senders (and never over
// maxKeys: beyond, a new sender is refused until buckets expire).
type rateLimiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

const maxRateKeys = 100_000

func newRateLimiter(rate float64, now func() time.Time) *rateLimiter {
	if now == nil {
		now = time.Now
	}
	return &rateLimiter{rate: rate, burst: max(1, rate), now: now, buckets: map[string]*bucket{}}
}

// allow takes a token for key, reporting whether there was one.
func (r *rateLimiter) allow(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.swept) > time.Minute {
		r.sweep(now)
	}
	b := r.buckets[key]
	if b == nil {
		if len(r.buckets) >= maxRateKeys {
			return false
		}
		b = &bucket{tokens: r.burst, last: now}
		r.buckets[key] = b
	}
	b.tokens = min(r.burst, b.tokens+now.Sub(b.last).Seconds()*r.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep drops buckets that have refilled.
func (r *rateLimiter) sweep(now time.Time) {
	r.swept = now
	for k, b := range r.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*r.rate >= r.burst {
			delete(r.buckets, k)
		}
	}
}
