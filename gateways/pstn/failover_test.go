package pstn

import (
	"strings"
	"testing"
	"time"
)

func TestDecide_Failover(t *testing.T) {
	def := PolicyFor(Failover{})
	early := PolicyFor(Failover{Timer: Duration(3 * time.Second), OnEarlyMedia: true})
	if def.Timer != 10*time.Second || early.Timer != 3*time.Second {
		t.Fatalf("%v %v", def, early)
	}
	for _, tc := range []struct {
		name string
		p    FailoverPolicy
		a    Attempt
		want Action
		why  string
	}{
		{"408", def, Attempt{Code: 408}, Next, "408"},
		{"500", def, Attempt{Code: 500, Provisional: true}, Next, "gateway failed"},
		{"502", def, Attempt{Code: 502}, Next, ""},
		{"503", def, Attempt{Code: 503, RetryAfter: true}, Next, ""},
		{"504", def, Attempt{Code: 504}, Next, ""},
		{"no provisional in time", def, Attempt{TimerFired: true}, Next, "within 10s"},
		{"100 only is no provisional", def, Attempt{TimerFired: true, Provisional: false}, Next, ""},
		{"ringing: timer does not apply", def, Attempt{TimerFired: true, Provisional: true}, Wait, ""},
		{"nothing yet", def, Attempt{}, Wait, ""},
		{"180 only", def, Attempt{Code: 180, Provisional: true}, Wait, ""},
		{"486 busy", def, Attempt{Code: 486}, Stop, "about the callee"},
		{"404", def, Attempt{Code: 404}, Stop, "never"},
		{"484", def, Attempt{Code: 484}, Stop, ""},
		{"487", def, Attempt{Code: 487}, Stop, ""},
		{"600", def, Attempt{Code: 600}, Stop, "global failure"},
		{"603", def, Attempt{Code: 603}, Stop, ""},
		{"604", def, Attempt{Code: 604}, Stop, ""},
		{"403", def, Attempt{Code: 403}, Stop, "callee's network"},
		{"480", def, Attempt{Code: 480}, Stop, ""},
		{"302 not followed", def, Attempt{Code: 302}, Stop, "never followed"},
		{"200", def, Attempt{Code: 200}, Stop, "answered"},
		{"cancel", def, Attempt{Cancelled: true, TimerFired: true}, Stop, "no new branch"},
		{"cancel beats 503", def, Attempt{Cancelled: true, Code: 503}, Stop, ""},
		{"503 after early media", def, Attempt{Code: 503, Provisional: true, EarlyMedia: true}, Stop, "early media"},
		{"503 after early media, trunk allows", early, Attempt{Code: 503, Provisional: true, EarlyMedia: true}, Next, ""},
		{"486 after early media, trunk allows", early, Attempt{Code: 486, EarlyMedia: true}, Stop, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := tc.p.Decide(tc.a)
			if got != tc.want || !strings.Contains(why, tc.why) {
				t.Errorf("%v %q, want %v with %q", got, why, tc.want, tc.why)
			}
		})
	}
}

func TestUpstream(t *testing.T) {
	for _, tc := range []struct {
		name string
		as   []Attempt
		want int
	}{
		{"last 503 with Retry-After", []Attempt{{Code: 500}, {Code: 503, RetryAfter: true}}, 480},
		{"last 503", []Attempt{{Code: 503}}, 500},
		{"503s everywhere", []Attempt{{Code: 503, RetryAfter: true}, {Code: 503}}, 500},
		{"4xx beats 5xx", []Attempt{{Code: 404}, {Code: 503}}, 404},
		{"lowest class, latest", []Attempt{{Code: 500}, {Code: 408}, {Code: 502}}, 408},
		{"6xx wins", []Attempt{{Code: 408}, {Code: 603}, {Code: 486}}, 603},
		{"first 6xx kept", []Attempt{{Code: 600}, {Code: 603}}, 600},
		{"486 ends the call", []Attempt{{Code: 486}}, 486},
		{"timers only", []Attempt{{TimerFired: true}, {TimerFired: true}}, 408},
		{"none", nil, 408},
		{"a 408 answer beats a 503 (RFC 3261 16.7: lowest class)", []Attempt{{Code: 408}, {Code: 503, RetryAfter: true}}, 408},
		{"3xx", []Attempt{{Code: 503}, {Code: 302}}, 302},
	} {
		if got, why := Upstream(tc.as); got != tc.want || why == "" {
			t.Errorf("%s: %d (%s), want %d", tc.name, got, why, tc.want)
		}
	}
}

// The two code lists never overlap, and 6xx is in neither.
func TestCodeLists(t *testing.T) {
	for _, c := range FailoverCodes {
		if in(NeverFailoverCodes, c) || c >= 600 || c < 400 {
			t.Errorf("%d", c)
		}
	}
	if Next.String() != "next gateway" || Action(9).String() != "Action(9)" {
		t.Error(Next, Action(9))
	}
}
