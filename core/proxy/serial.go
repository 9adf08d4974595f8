package proxy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/core/transport"
)

// Policy is a serial fork's failover rule for one target (a plugin's
// Fork verdict hands it over: gateways/pstn's trunks). It replaces the
// Failover target's 503-only rule:
//
//   - a final failure whose code is in Next goes to the next target
//     (408, 500, 502, 503, 504 for PSTN gateways); any other (404, 486,
//     487, 6xx, 3xx) stops the fork and goes to the caller;
//   - no provisional response other than 100 within Timer (0: none):
//     the target is cancelled (CANCEL once it sent 100, given up
//     otherwise) and the next one tried;
//   - a final failure after early media (a 18x with a body) stops the
//     fork unless OnEarlyMedia.
type Policy struct {
	Next         []int
	Timer        time.Duration
	OnEarlyMedia bool
}

// Attempt is what one target of a serial fork did.
type Attempt struct {
	Target     string        // its Request-URI
	Code       int           // final response; 0: none (silent, unreachable, fast-failover timer)
	RetryAfter bool          // the final response carried Retry-After
	EarlyMedia bool          // a 18x with a body came first
	TimedOut   bool          // the fast-failover timer ran out
	Elapsed    time.Duration // from sending to the outcome
	res        *sip.Response // the final response, ready to relay (our Via removed)
}

// branchFailure is what run returns for a final failure or a fast
// failover under a Policy: nothing was relayed. It wraps ErrFailover.
type branchFailure struct {
	Attempt
	next bool // the policy sends the call on
}

func (e *branchFailure) Error() string {
	return fmt.Sprintf("%v: %s answered %d (next: %v)", ErrFailover, e.Target, e.Code, e.next)
}

func (e *branchFailure) Unwrap() error { return ErrFailover }

// decide applies p to a final response res after early media or not.
func (p *Policy) decide(res *sip.Response, early bool) bool {
	code := res.StatusCode
	if code < 300 || (early && !p.OnEarlyMedia) {
		return false
	}
	return slices.Contains(p.Next, code)
}

// Branch is one target of ForwardSerial: its own copy of the request
// (Request-URI and headers as the target wants them), where it goes,
// and its policy.
type Branch struct {
	Req    *sip.Request
	Target Target
	Policy Policy
}

// ForwardSerial forwards to branches in turn under their policies and
// answers the caller once: with the first 2xx (relayed as it comes),
// with a failure the policy stops on (a 503 among them is never passed
// on, below), or, when every branch failed over, with Upstream of the
// attempts. A CANCEL from the caller stops the walk: no new branch
// after it. It returns the attempts (for the outcome) and Forward's
// error of the last branch, nil once the caller has been answered by a
// relayed response.
func (p *Proxy) ForwardSerial(ctx context.Context, orig *sip.Request, tx sip.ServerTransaction, branches []Branch, rr bool, in *transport.Listener) ([]Attempt, error) {
	var cancelled atomic.Bool
	if orig.IsInvite() {
		// The caller already has its 100 Trying (the pipeline sends one
		// for every admitted INVITE, RFC 3261 16.2), so a fast-failover
		// wait does not leave it without a provisional response.
		if !tx.OnCancel(func(*sip.Request) { cancelled.Store(true) }) {
			cancelled.Store(true) // cancelled before we got here
		}
	}
	attempts := make([]Attempt, 0, len(branches))
	for i := range branches {
		if cancelled.Load() {
			return attempts, nil // sipgo answered 487 upstream
		}
		b := &branches[i]
		t := b.Target
		pol := b.Policy
		t.Failover, t.Policy, t.NoAnswer, t.Alive = true, &pol, pol.Timer, nil
		start := time.Now()
		err := p.Forward(ctx, b.Req, tx, t, rr, in)
		last := i == len(branches)-1
		var bf *branchFailure
		switch {
		case errors.As(err, &bf):
			bf.Elapsed = time.Since(start)
			attempts = append(attempts, bf.Attempt)
			if bf.next && !last {
				continue
			}
			if !bf.next {
				p.answer(tx, orig, bf.Attempt) // the policy stops here
				return attempts, nil
			}
		case errors.Is(err, ErrFailover): // unreachable, or silent until the transaction ended
			attempts = append(attempts, Attempt{Target: t.URI.String(), Elapsed: time.Since(start), TimedOut: errors.Is(err, ErrTimeout)})
			if !last {
				continue
			}
		default: // answered: a 2xx, a CANCEL, timer C, our shutdown
			return attempts, err
		}
	}
	if cancelled.Load() {
		return attempts, nil
	}
	code, reason, best := Upstream(attempts)
	if best >= 0 && attempts[best].res != nil && code == attempts[best].Code {
		p.answer(tx, orig, attempts[best])
	} else {
		_ = tx.Respond(siputil.Response(orig, code, reason))
	}
	return attempts, nil
}

// answer relays a's final response to the caller, a 503 turned into
// Upstream's 480 or 500.
func (p *Proxy) answer(tx sip.ServerTransaction, orig *sip.Request, a Attempt) {
	if a.Code == 503 || a.res == nil {
		code, reason, _ := Upstream([]Attempt{a})
		_ = tx.Respond(siputil.Response(orig, code, reason))
		return
	}
	if err := tx.Respond(a.res); err != nil {
		p.log.Debug("final response not relayed", "status", a.Code, "error", err)
	}
}

// Upstream is the final response the caller gets when no branch
// answered (RFC 3261 16.7 step 6): a 6xx, else the lowest class, the
// latest in it; a 503 is never passed on (16.7: the caller would take
// us for overloaded): 480 Temporarily Unavailable when it carried
// Retry-After, else 500. No final response at all: 408. best is the
// attempt chosen (-1: none).
func Upstream(attempts []Attempt) (code int, reason string, best int) {
	best = -1
	for i, a := range attempts {
		if a.Code < 300 {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		b := attempts[best].Code
		switch {
		case b >= 600:
		case a.Code >= 600, a.Code/100 <= b/100:
			best = i
		}
	}
	if best < 0 {
		return 408, "Request Timeout (no gateway answered)", -1
	}
	a := attempts[best]
	switch {
	case a.Code == 503 && a.RetryAfter:
		return 480, "Temporarily Unavailable (every gateway unavailable)", best
	case a.Code == 503:
		return 500, "Server Internal Error (every gateway unavailable)", best
	}
	return a.Code, "", best
}

// drain reads what a cancelled branch still sends (its 487, a late
// 2xx) until its transaction ends, so the transaction is never blocked
// handing a response up; a 2xx is relayed statelessly (RFC 3261 16.7
// step 5: every 2xx goes upstream). Bounded by the transaction's own
// timers and a 64*T1 guard.
func (p *Proxy) drain(ctr sip.ClientTransaction) {
	guard := time.NewTimer(64 * sip.T1)
	defer guard.Stop()
	for {
		select {
		case res, ok := <-ctr.Responses():
			if !ok {
				return
			}
			if res.IsSuccess() {
				p.relayStateless(res)
			}
		case <-ctr.Done():
			return
		case <-guard.C:
			ctr.Terminate()
			return
		}
	}
}
