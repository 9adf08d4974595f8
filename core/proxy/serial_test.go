package proxy

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestUpstream: RFC 3261 16.7's best response over the failed branches,
// a 503 never passed on.
func TestUpstream(t *testing.T) {
	a := func(code int, ra bool) Attempt { return Attempt{Code: code, RetryAfter: ra} }
	cases := []struct {
		name     string
		attempts []Attempt
		code     int
		best     int
	}{
		{"none answered", []Attempt{{TimedOut: true}, {}}, 408, -1},
		{"last 503", []Attempt{a(500, false), a(503, false)}, 500, 1},
		{"a 4xx beats a later 503", []Attempt{a(408, false), a(503, true)}, 408, 0},
		{"only 503 with Retry-After", []Attempt{{TimedOut: true}, a(503, true)}, 480, 1},
		{"lowest class", []Attempt{a(404, false), a(503, false)}, 404, 0},
		{"latest of the class", []Attempt{a(408, false), a(480, false)}, 480, 1},
		{"6xx wins", []Attempt{a(603, false), a(404, false)}, 603, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, best := Upstream(tc.attempts)
			if code != tc.code || best != tc.best {
				t.Fatalf("got %d (best %d), want %d (best %d)", code, best, tc.code, tc.best)
			}
		})
	}
}

// TestPolicyDecide: codes in Next go on unless early media came first
// (and the policy does not allow it); 2xx and 3xx never do.
func TestPolicyDecide(t *testing.T) {
	p := Policy{Next: []int{408, 500, 502, 503, 504}}
	pe := p
	pe.OnEarlyMedia = true
	cases := []struct {
		pol   Policy
		code  int
		early bool
		next  bool
	}{
		{p, 503, false, true}, {p, 408, false, true}, {p, 486, false, false}, {p, 404, false, false},
		{p, 603, false, false}, {p, 302, false, false}, {p, 200, false, false},
		{p, 503, true, false}, {pe, 503, true, true},
	}
	for _, tc := range cases {
		res := &sip.Response{StatusCode: tc.code}
		if got := tc.pol.decide(res, tc.early); got != tc.next {
			t.Errorf("%d early=%v on_early_media=%v: next %v, want %v", tc.code, tc.early, tc.pol.OnEarlyMedia, got, tc.next)
		}
	}
}
