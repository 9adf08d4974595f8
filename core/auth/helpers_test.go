package auth

import (
	"fmt"
	"sync"
	"time"
)

// fakeClock is a manually advanced clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// clientAuth builds an Authorization value the way a UA would (qop=auth when
// nc != "", RFC 2069 form otherwise).
type clientAuth struct {
	alg                         Algorithm
	user, realm, pass           string
	method, uri, nonce, nc, cno string
}

func (c clientAuth) String() string {
	qop := ""
	if c.nc != "" {
		qop = "auth"
	}
	resp := Response(c.alg, HA1(c.alg, c.user, c.realm, c.pass), c.method, c.uri, c.nonce, c.nc, c.cno, qop)
	v := fmt.Sprintf(`Digest username=%q, realm=%q, nonce=%q, uri=%q, response=%q, algorithm=%s`,
		c.user, c.realm, c.nonce, c.uri, resp, c.alg)
	if qop != "" {
		v += fmt.Sprintf(`, cnonce=%q, qop=auth, nc=%s`, c.cno, c.nc)
	}
	return v
}
