// Package flood protects a node from request floods, like Kamailio's pike
// module: every source IP of an untrusted connection has a token bucket;
// a source that empties it is banned for a while, and the pipeline drops
// its requests without answering (an answer would feed the flood). Memory
// stays bounded: idle sources are forgotten and the table has a cap.
package flood

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Config sets the limits. Rate 0 turns protection off.
type Config struct {
	Rate       float64       // requests per second allowed per source IP
	Burst      int           // requests a source may send at once
	Ban        time.Duration // how long an offender is dropped
	MaxSources int           // sources tracked at most (default 100,000)
	Now        func() time.Time
}

// Guard decides whether a source may be served.
type Guard struct {
	cfg     Config
	mu      sync.Mutex
	sources map[string]*source
	calls   int
}

type source struct {
	lim    *rate.Limiter
	banned time.Time // until
	seen   time.Time
}

// idle is how long an unbanned source is remembered without traffic.
const idle = time.Minute

// New returns a guard.
func New(cfg Config) *Guard {
	if cfg.MaxSources <= 0 {
		cfg.MaxSources = 100_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 1
	}
	return &Guard{cfg: cfg, sources: make(map[string]*source)}
}

// Allow reports whether a request from ip may be served; false when ip is
// banned or has just exceeded its rate (which bans it).
func (g *Guard) Allow(ip string) bool {
	if g == nil || g.cfg.Rate <= 0 {
		return true
	}
	now := g.cfg.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	if g.calls%4096 == 0 {
		g.sweep(now)
	}
	s := g.sources[ip]
	if s == nil {
		if len(g.sources) >= g.cfg.MaxSources {
			g.sweep(now)
			if len(g.sources) >= g.cfg.MaxSources {
				return true // full of live sources: fail open rather than punish newcomers
			}
		}
		s = &source{lim: rate.NewLimiter(rate.Limit(g.cfg.Rate), g.cfg.Burst)}
		g.sources[ip] = s
	}
	s.seen = now
	if now.Before(s.banned) {
		return false
	}
	if !s.lim.AllowN(now, 1) {
		s.banned = now.Add(g.cfg.Ban)
		return false
	}
	return true
}

// Banned returns how many sources are banned now.
func (g *Guard) Banned() int {
	if g == nil {
		return 0
	}
	now := g.cfg.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, s := range g.sources {
		if now.Before(s.banned) {
			n++
		}
	}
	return n
}

// sweep forgets sources that are neither banned nor recently active.
func (g *Guard) sweep(now time.Time) {
	for ip, s := range g.sources {
		if !now.Before(s.banned) && now.Sub(s.seen) > idle {
			delete(g.sources, ip)
		}
	}
}
