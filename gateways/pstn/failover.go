package pstn

import (
	"fmt"
	"time"
)

// DefaultFastFailover is the fast-failover timer: a gateway that sends
// no provisional response within it is given up for the next (Lync and
// Teams use 10 s).
const DefaultFastFailover = 10 * time.Second

// FailoverPolicy is the failover rule for one trunk as data: the core's
// per-verdict failover will be driven by it (README.md, Not yet).
type FailoverPolicy struct {
	Timer        time.Duration // fast-failover timer
	OnEarlyMedia bool          // fail over even after early media
}

// PolicyFor is the policy of a trunk's failover options.
func PolicyFor(f Failover) FailoverPolicy {
	p := FailoverPolicy{Timer: time.Duration(f.Timer), OnEarlyMedia: f.OnEarlyMedia}
	if p.Timer == 0 {
		p.Timer = DefaultFastFailover
	}
	return p
}

// FailoverCodes are the final responses that send the call to the next
// gateway: the gateway (not the callee) failed.
var FailoverCodes = []int{408, 500, 502, 503, 504}

// NeverFailoverCodes are answers about the callee, never retried on
// another gateway (a busy callee must not ring on every gateway); every
// 6xx is one too.
var NeverFailoverCodes = []int{404, 484, 486, 487}

// Attempt is what one gateway did with the call so far.
type Attempt struct {
	Code        int  // final response, 0 while none
	RetryAfter  bool // the final response carried Retry-After
	Provisional bool // a provisional response other than 100 arrived
	EarlyMedia  bool // a 18x with SDP arrived
	TimerFired  bool // the fast-failover timer ran out
	Cancelled   bool // the caller sent CANCEL
}

// Action is what to do after an attempt.
type Action int

const (
	// Wait: nothing final yet.
	Wait Action = iota
	// Next: try the next gateway (cancel this one if it is still ringing).
	Next
	// Stop: try no other gateway; the answer goes upstream (Upstream).
	Stop
)

func (a Action) String() string {
	switch a {
	case Wait:
		return "wait"
	case Next:
		return "next gateway"
	case Stop:
		return "stop"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Decide applies the policy to an attempt. The order of the checks is
// the rule: a CANCEL ends everything; an answer ends everything; then
// the fast-failover timer (no provisional: 100 Trying only says the
// gateway's transaction layer is alive); then early media (the caller
// may have heard an announcement: a new gateway would ring again); then
// the codes.
func (p FailoverPolicy) Decide(a Attempt) (Action, string) {
	switch {
	case a.Cancelled:
		return Stop, "cancelled by the caller: no new branch"
	case a.Code >= 200 && a.Code < 300:
		return Stop, "answered"
	case a.Code == 0 && a.TimerFired && !a.Provisional:
		return Next, fmt.Sprintf("no provisional response within %s", p.Timer)
	case a.Code == 0 || a.Code < 200:
		return Wait, "no final response yet"
	case a.EarlyMedia && !p.OnEarlyMedia:
		return Stop, fmt.Sprintf("%d after early media: the trunk does not fail over once media flowed", a.Code)
	case a.Code >= 600:
		return Stop, fmt.Sprintf("%d is a global failure: never failed over", a.Code)
	case in(NeverFailoverCodes, a.Code):
		return Stop, fmt.Sprintf("%d is about the callee: never failed over", a.Code)
	case in(FailoverCodes, a.Code):
		return Next, fmt.Sprintf("%d: the gateway failed", a.Code)
	case a.Code < 400:
		return Stop, fmt.Sprintf("%d redirect goes to the caller (never followed: toll fraud)", a.Code)
	}
	return Stop, fmt.Sprintf("%d is the callee's network's answer", a.Code)
}

// Upstream is the final response the caller gets when no gateway
// answered: the best of the attempts' final responses (RFC 3261 16.7
// step 6: a 6xx, else the lowest class, the latest of it), with a 503
// never passed on (16.7: the caller would take us for overloaded): 480
// Temporarily Unavailable when it carried Retry-After (the gateways are
// busy now, try later), else 500. When no gateway gave a final answer
// (every fast-failover timer ran out) it is 408.
func Upstream(attempts []Attempt) (int, string) {
	best := -1
	for i, a := range attempts {
		if a.Code < 300 {
			continue
		}
		switch b := bestCode(attempts, best); {
		case best < 0, a.Code >= 600 && b < 600:
			best = i
		case b >= 600:
		case a.Code/100 <= b/100:
			best = i
		}
	}
	if best < 0 {
		return 408, "no gateway answered in time"
	}
	a := attempts[best]
	if a.Code == 503 {
		if a.RetryAfter {
			return 480, "the last gateway was unavailable (503 with Retry-After)"
		}
		return 500, "the last gateway was unavailable (503)"
	}
	return a.Code, fmt.Sprintf("the best answer of %d gateway(s)", len(attempts))
}

func bestCode(as []Attempt, i int) int {
	if i < 0 {
		return 0
	}
	return as[i].Code
}

func in(list []int, c int) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}
