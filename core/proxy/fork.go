package proxy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/core/transport"
)

// Parallel forking (RFC 3261 16.7): one request, several client
// transactions at once, one response context. Fork relays every
// provisional response but 100 at once; the first 2xx goes upstream and
// the other branches get CANCEL; a 6xx goes upstream at once and the
// other branches get CANCEL (Kamailio's tm does the same; RFC 3261 waits
// for the cancelled branches first, which only delays the same answer);
// every later 2xx is relayed too (the caller ACKs and BYEs the extra
// dialog). When every branch ended without a 2xx or a 6xx, the best
// final response goes upstream (bestResponse). Each branch is bounded:
// its failover timer (Target.NoAnswer) while silent, the transaction
// timers, and CancelWait after a CANCEL; timer C bounds the ringing.

// CancelWait is how long a cancelled branch may take to end with a
// final response (RFC 3261 9.1: 64 x T1) before it is given up.
const CancelWait = 32 * time.Second

// ForkResult is what Fork reports.
type ForkResult struct {
	// Answered: the caller's transaction got its final response (relayed
	// or ours) or was cancelled. False only when no branch answered at
	// all (each unreachable or silent): the caller answers, as after
	// serial failover (Errs tell why).
	Answered bool
	// Winner is the index of the branch whose 2xx was relayed first, -1
	// when none answered 2xx.
	Winner int
	// Errs holds, per branch in the order given, why it ended without a
	// final response (wrapping ErrTimeout or ErrUnreachable, or the
	// context's error); nil for a branch that answered.
	Errs []error
}

// Err is the last branch error, nil when every branch answered.
func (r ForkResult) Err() error {
	var last error
	for _, err := range r.Errs {
		if err != nil {
			last = err
		}
	}
	return last
}

type forkEvent struct {
	i   int
	res *sip.Response // nil: the branch ended without a final response (err)
	err error
}

type forkBranch struct {
	t    Target
	fwd  *sip.Request
	stop chan struct{} // closed by the response context: cancel
	// Only the response context (Fork's loop) reads and writes these.
	stopped bool // stop is closed
	ended   bool // its last event came
}

// Fork sends req to every target at once and answers tx from their
// responses (RFC 3261 16.7). It blocks until every branch ended, as
// sipgo handlers must; every branch is bounded (see above).
func (p *Proxy) Fork(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, ts []Target, recordRoute bool, in *transport.Listener) ForkResult {
	out := ForkResult{Winner: -1, Errs: make([]error, len(ts))}
	events := make(chan forkEvent, 2*len(ts))
	bs := make([]*forkBranch, len(ts))
	live := 0
	for i, t := range ts {
		fwd, _, err := p.prepare(req, t, recordRoute, in)
		if err != nil {
			out.Errs[i] = fmt.Errorf("%w: %w", ErrUnreachable, err)
			continue
		}
		if t.Rewrite != nil {
			t.Rewrite(fwd)
		}
		ctr, err := p.txl.Request(ctx, fwd)
		if err != nil {
			out.Errs[i] = fmt.Errorf("%w: %w", ErrUnreachable, err)
			continue
		}
		b := &forkBranch{t: t, stop: make(chan struct{})}
		bs[i] = b
		live++
		go p.runBranch(ctx, i, t, fwd, b.stop, ctr, events)
	}
	if live == 0 {
		return out
	}

	cancelled := make(chan struct{})
	var once sync.Once
	tx.OnCancel(func(*sip.Request) { once.Do(func() { close(cancelled) }) })
	tc := time.NewTimer(p.cfg.InviteTimeout)
	defer tc.Stop()
	timerC, done := tc.C, ctx.Done()
	cancelAll := func(except int) {
		for j, b := range bs {
			if b != nil && j != except && !b.ended && !b.stopped {
				b.stopped = true
				close(b.stop)
			}
		}
	}
	finals := make([]*sip.Response, len(ts))
	answered := false
	// live counts branches whose last event is still to come: every
	// branch goroutine ends with exactly one such event, bounded.
	for live > 0 {
		select {
		case ev := <-events:
			b := bs[ev.i]
			if ev.res != nil && ev.res.IsProvisional() {
				if !answered {
					tc.Reset(p.cfg.InviteTimeout)
					_ = relay(tx, ev.res, b.t.RewriteResponse)
				}
				continue
			}
			live--
			b.ended = true
			if ev.res == nil {
				out.Errs[ev.i] = ev.err
				continue
			}
			code := ev.res.StatusCode
			switch {
			case code >= 200 && code < 300:
				if out.Winner < 0 {
					out.Winner = ev.i
				}
				if answered {
					p.relayLate(tx, ev.res, b.t.RewriteResponse)
					continue
				}
				answered = true
				_ = relay(tx, ev.res, b.t.RewriteResponse)
				cancelAll(ev.i)
			case code >= 600:
				finals[ev.i] = ev.res
				if !answered {
					answered = true
					_ = relay(tx, ev.res, b.t.RewriteResponse)
					cancelAll(ev.i)
				}
			default:
				finals[ev.i] = ev.res
			}
		case <-cancelled:
			cancelled = nil // sipgo already answered 487 upstream
			answered = true
			cancelAll(-1)
		case <-timerC:
			timerC = nil
			cancelAll(-1)
			if !answered {
				answered = true
				_ = tx.Respond(siputil.Response(req, 408, "Request Timeout"))
			}
		case <-done:
			done = nil // the branches end themselves on the context
			if !answered {
				answered = true
				_ = tx.Respond(siputil.Response(req, 503, "Service Unavailable", retryAfter(5)))
			}
		}
	}
	if !answered {
		res, i := bestResponse(req, finals, out.Errs)
		switch {
		case res == nil:
		case i < 0: // ours
			answered = true
			_ = tx.Respond(res)
		default:
			answered = true
			_ = relay(tx, res, bs[i].t.RewriteResponse)
		}
	}
	out.Answered = answered
	return out
}

// relayLate sends a 2xx that comes after the caller's final response
// (another branch answered too): through tx while it takes 2xx, else
// statelessly by the Vias (RFC 3261 16.7 step 5: every 2xx goes
// upstream).
func (p *Proxy) relayLate(tx sip.ServerTransaction, res *sip.Response, rewrite func(*sip.Response)) {
	if err := relay(tx, res, rewrite); err != nil {
		p.relayStateless(res)
	}
}

// runBranch drives one branch's client transaction and reports its
// provisional responses and then exactly one last event (a final
// response, or the error that ended it). It gives the branch up when it
// stays silent for Target.NoAnswer (unless Target.Alive), and CancelWait
// after a CANCEL that did not end it.
func (p *Proxy) runBranch(ctx context.Context, i int, t Target, fwd *sip.Request, stop <-chan struct{}, ctr sip.ClientTransaction, events chan<- forkEvent) {
	// Late 2xx retransmissions are relayed statelessly (RFC 6026).
	ctr.OnRetransmission(func(res *sip.Response) {
		if res.IsSuccess() {
			p.relayStateless(res)
		}
	})
	var noAnswer <-chan time.Time
	var na *time.Timer
	if t.NoAnswer > 0 {
		na = time.NewTimer(t.NoAnswer)
		defer na.Stop()
		noAnswer = na.C
	}
	var giveUp <-chan time.Time
	provisional, cancelWanted, cancelSent := false, false, false
	end := func(ev forkEvent) { events <- ev } // the response context reads until every branch ended
	for {
		select {
		case res, ok := <-ctr.Responses():
			if !ok {
				end(forkEvent{i: i, err: fmt.Errorf("%w: transaction ended", ErrUnreachable)})
				return
			}
			noAnswer = nil
			if res.IsProvisional() {
				provisional = true
				if cancelWanted && !cancelSent {
					cancelSent = true
					p.cancel(fwd)
				}
				if res.StatusCode != 100 {
					events <- forkEvent{i: i, res: res}
				}
				continue
			}
			end(forkEvent{i: i, res: res})
			return
		case <-ctr.Done():
			if errors.Is(ctr.Err(), sip.ErrTransactionTimeout) {
				end(forkEvent{i: i, err: ErrTimeout})
				return
			}
			end(forkEvent{i: i, err: fmt.Errorf("%w: %w", ErrUnreachable, ctr.Err())})
			return
		case <-noAnswer:
			if !cancelWanted && t.Alive != nil && t.Alive() {
				na.Reset(t.NoAnswer) // the hop is up: keep waiting
				continue
			}
			ctr.Terminate()
			end(forkEvent{i: i, err: ErrTimeout})
			return
		case <-stop:
			stop = nil
			cancelWanted = true
			if provisional && !cancelSent { // RFC 3261 9.1: only after a provisional
				cancelSent = true
				p.cancel(fwd)
			}
			giveUp = time.After(CancelWait)
		case <-giveUp:
			ctr.Terminate()
			end(forkEvent{i: i, err: ErrTimeout})
			return
		case <-ctx.Done():
			ctr.Terminate()
			end(forkEvent{i: i, err: ctx.Err()})
			return
		}
	}
}

// bestResponse picks the final response for the caller when no branch
// answered 2xx or 6xx (RFC 3261 16.7 step 6): the lowest class among the
// branches' finals, a silent branch counting as 408 and an unreachable
// one as 503; within the class, by preference (responsePref). A 503 is
// not passed on (it would say this server is unavailable): 500 instead.
// A 401 or 407 carries every branch's challenges (step 7). i is the
// branch of a relayed response, -1 for one of ours; nil when no branch
// answered at all (the caller answers as after failover).
func bestResponse(req *sip.Request, finals []*sip.Response, errs []error) (res *sip.Response, i int) {
	type cand struct {
		code, branch int
		res          *sip.Response // nil: a branch with no final response
	}
	var best cand
	for j, f := range finals {
		if f != nil && better(f.StatusCode, best.code) {
			best = cand{f.StatusCode, j, f}
		}
	}
	if best.res == nil {
		return nil, -1
	}
	for j, err := range errs {
		if err == nil {
			continue
		}
		code := 503
		if errors.Is(err, ErrTimeout) {
			code = 408
		}
		if better(code, best.code) {
			best = cand{code, j, nil}
		}
	}
	switch {
	case best.res == nil && best.code == 408:
		return siputil.Response(req, 408, "Request Timeout"), -1
	case best.code == 503:
		return siputil.Response(req, 500, "Server Internal Error"), -1
	case best.code == 401 || best.code == 407:
		merged := best.res.Clone()
		for j, f := range finals {
			if f == nil || j == best.branch || (f.StatusCode != 401 && f.StatusCode != 407) {
				continue
			}
			for _, name := range []string{"WWW-Authenticate", "Proxy-Authenticate"} {
				for _, h := range f.GetHeaders(name) {
					merged.AppendHeader(sip.HeaderClone(h))
				}
			}
		}
		return merged, best.branch
	}
	return best.res, best.branch
}

// better reports whether code beats cur: a lower class, or in the same
// class a more telling response (responsePref).
func better(code, cur int) bool {
	if cur == 0 {
		return true
	}
	if code/100 != cur/100 {
		return code/100 < cur/100
	}
	return responsePref(code) < responsePref(cur)
}

// responsePref orders responses of one class, lower first: a challenge
// (the caller can act on it), then what the caller can fix (415, 420,
// 484), then a definite answer (486 Busy Here, 403, 404...), then 480
// Temporarily Unavailable, then 503 and 408 (no answer at all).
func responsePref(code int) int {
	switch code {
	case 401, 407:
		return 0
	case 415, 420, 484:
		return 1
	case 480:
		return 3
	case 503, 408:
		return 4
	}
	return 2
}
