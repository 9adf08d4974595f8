package auth

import (
	"container/list"
	"sync"
	"time"
)

// Throttle defaults.
const (
	DefaultThrottleThreshold  = 5
	DefaultThrottleWindow     = time.Minute
	DefaultThrottleMaxDelay   = 4 * time.Second
	DefaultThrottleBaseDelay  = 250 * time.Millisecond
	DefaultThrottleMaxSources = 100_000
)

// ThrottleConfig configures a [Throttle]. Zero fields take the defaults.
type ThrottleConfig struct {
	// Threshold is the number of failures within Window from which answers
	// are delayed (default 5).
	Threshold int
	// Window is the sliding window failures are counted in (default 1 min).
	Window time.Duration
	// MaxDelay caps the delay (default 4s).
	MaxDelay time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// BaseDelay is the delay at Threshold failures (default 250ms); it
	// doubles with every further failure.
	BaseDelay time.Duration
	// MaxSources bounds how many sources are tracked (default 100,000); when
	// full the least recently failing source is forgotten.
	MaxSources int
}

// Throttle counts authentication failures per source (an IP address string)
// in a sliding window and tells how long to delay the next answer to that
// source: 0 below Threshold failures in Window, then BaseDelay doubling with
// each further failure up to MaxDelay. A success resets the source. Memory is
// bounded by MaxSources. Safe for concurrent use.
//
// The delay is advisory: the caller sleeps (or schedules the answer) itself,
// without holding up other sources.
type Throttle struct {
	cfg  ThrottleConfig
	keep int // failure timestamps kept per source; more cannot raise the delay

	mu      sync.Mutex
	sources map[string]*list.Element // of *source
	lru     list.List                // front = most recent failure
}

type source struct {
	key      string
	failures []time.Time // ascending, within the window (pruned lazily)
}

// NewThrottle returns a Throttle for cfg.
func NewThrottle(cfg ThrottleConfig) *Throttle {
	if cfg.Threshold <= 0 {
		cfg.Threshold = DefaultThrottleThreshold
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultThrottleWindow
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultThrottleMaxDelay
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = DefaultThrottleBaseDelay
	}
	if cfg.MaxSources <= 0 {
		cfg.MaxSources = DefaultThrottleMaxSources
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	steps := 0
	for d := cfg.BaseDelay; d < cfg.MaxDelay; d *= 2 {
		steps++
	}
	t := &Throttle{cfg: cfg, keep: cfg.Threshold + steps, sources: make(map[string]*list.Element)}
	t.lru.Init()
	return t
}

// Failure records a failed authentication from source and returns how long to
// delay the answer to it.
func (t *Throttle) Failure(src string) (delay time.Duration) {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var s *source
	if e, ok := t.sources[src]; ok {
		s = e.Value.(*source)
		t.lru.MoveToFront(e)
	} else {
		for len(t.sources) >= t.cfg.MaxSources {
			oldest := t.lru.Back()
			t.lru.Remove(oldest)
			delete(t.sources, oldest.Value.(*source).key)
		}
		s = &source{key: src}
		t.sources[src] = t.lru.PushFront(s)
	}
	t.prune(s, now)
	s.failures = append(s.failures, now)
	if n := len(s.failures); n > t.keep {
		s.failures = append(s.failures[:0], s.failures[n-t.keep:]...)
	}
	return t.delay(len(s.failures))
}

// Delay returns how long to delay the next answer to source, without
// recording anything.
func (t *Throttle) Delay(src string) time.Duration {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.sources[src]
	if !ok {
		return 0
	}
	s := e.Value.(*source)
	t.prune(s, now)
	if len(s.failures) == 0 {
		t.lru.Remove(e)
		delete(t.sources, src)
		return 0
	}
	return t.delay(len(s.failures))
}

// Success forgets the failures of source.
func (t *Throttle) Success(src string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.sources[src]; ok {
		t.lru.Remove(e)
		delete(t.sources, src)
	}
}

// Len returns how many sources are tracked (for metrics).
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.sources)
}

// prune drops failures that left the window.
func (t *Throttle) prune(s *source, now time.Time) {
	cut := 0
	for cut < len(s.failures) && now.Sub(s.failures[cut]) >= t.cfg.Window {
		cut++
	}
	if cut > 0 {
		s.failures = append(s.failures[:0], s.failures[cut:]...)
	}
}

// delay maps a failure count to a delay.
func (t *Throttle) delay(failures int) time.Duration {
	if failures < t.cfg.Threshold {
		return 0
	}
	d := t.cfg.BaseDelay
	for i := t.cfg.Threshold; i < failures && d < t.cfg.MaxDelay; i++ {
		d *= 2
	}
	return min(d, t.cfg.MaxDelay)
}
