package proxy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/siputil"
)

// run drives one client transaction and relays its responses.
func (p *Proxy) run(ctx context.Context, req, fwd *sip.Request, tx sip.ServerTransaction, t Target) error {
	ctr, err := p.txl.Request(ctx, fwd)
	if err != nil {
		if !t.Failover {
			_ = tx.Respond(siputil.Response(req, 480, "Temporarily Unavailable"))
			return fmt.Errorf("%w: %w", ErrUnreachable, err)
		}
		return fmt.Errorf("%w: %w: %w", ErrFailover, ErrUnreachable, err)
	}
	var noAnswer <-chan time.Time
	var na *time.Timer
	if t.Failover && t.NoAnswer > 0 {
		na = time.NewTimer(t.NoAnswer)
		defer na.Stop()
		noAnswer = na.C
	}
	invite := req.IsInvite()
	var cancelled chan struct{}
	if invite {
		cancelled = make(chan struct{})
		var once sync.Once
		tx.OnCancel(func(*sip.Request) { once.Do(func() { close(cancelled) }) })
		// Late 2xx retransmissions are relayed statelessly (RFC 6026).
		ctr.OnRetransmission(func(res *sip.Response) {
			if res.IsSuccess() {
				p.relayStateless(res)
			}
		})
	}
	var timerC <-chan time.Time
	var tc *time.Timer
	if invite {
		tc = time.NewTimer(p.cfg.InviteTimeout)
		defer tc.Stop()
		timerC = tc.C
	}
	provisional, cancelWanted, cancelSent, early := false, false, false, false
	sendCancel := func() {
		if cancelSent || !provisional {
			return
		}
		cancelSent = true
		p.cancel(fwd)
	}
	for {
		select {
		case res, ok := <-ctr.Responses():
			if !ok {
				return nil
			}
			if t.Policy == nil || res.StatusCode > 100 {
				noAnswer = nil // it answers: no failover on silence any more
			}
			if t.Policy != nil && res.StatusCode > 100 && res.StatusCode < 200 && len(res.Body()) > 0 {
				early = true // early media: the caller may have heard something
			}
			if res.StatusCode == 100 {
				// Hop by hop: not relayed, but it is a provisional response
				// (RFC 3261 9.1): a pending CANCEL may go now.
				provisional = true
				if cancelWanted {
					sendCancel()
				}
				continue
			}
			if res.IsProvisional() {
				provisional = true
				if cancelWanted {
					sendCancel()
				}
				if tc != nil {
					tc.Reset(p.cfg.InviteTimeout)
				}
				_ = relay(tx, res, t.RewriteResponse)
				continue
			}
			if res.StatusCode >= 300 && res.StatusCode < 400 && t.OnRedirect != nil && !cancelWanted && t.OnRedirect(res) {
				return ErrRedirected
			}
			if t.Policy != nil && res.StatusCode >= 300 && !cancelWanted {
				return &branchFailure{Attempt: Attempt{Target: t.URI.String(), Code: res.StatusCode, EarlyMedia: early,
					RetryAfter: res.GetHeader("Retry-After") != nil, res: popVia(res)}, next: t.Policy.decide(res, early)}
			}
			if res.StatusCode == 503 && t.Failover && !cancelWanted {
				return fmt.Errorf("%w: %w", ErrFailover, ErrUnavailable)
			}
			if err := relay(tx, res, t.RewriteResponse); err != nil && !cancelWanted {
				p.log.Debug("final response not relayed", "status", res.StatusCode, "error", err)
			}
			return nil
		case <-ctr.Done():
			if t.Failover && !cancelWanted {
				if errors.Is(ctr.Err(), sip.ErrTransactionTimeout) {
					return fmt.Errorf("%w: %w", ErrFailover, ErrTimeout)
				}
				return fmt.Errorf("%w: %w: %w", ErrFailover, ErrUnreachable, ctr.Err())
			}
			return p.failed(req, tx, ctr.Err(), t.Server)
		case <-noAnswer:
			if t.Policy != nil && !cancelWanted {
				// Fast failover: a target that sent 100 is cancelled (its
				// 487 and any late 2xx are read by drain); one that sent
				// nothing is given up.
				if provisional {
					sendCancel()
					go p.drain(ctr)
				} else {
					ctr.Terminate()
				}
				return &branchFailure{Attempt: Attempt{Target: t.URI.String(), TimedOut: true}, next: true}
			}
			if !cancelWanted && t.Alive != nil && t.Alive() {
				na.Reset(t.NoAnswer) // the hop is up: keep waiting
				continue
			}
			ctr.Terminate()
			if cancelWanted {
				return p.failed(req, tx, sip.ErrTransactionTimeout, t.Server)
			}
			return fmt.Errorf("%w: %w", ErrFailover, ErrTimeout)
		case <-cancelled:
			cancelled = nil // sipgo already answered 487 upstream
			cancelWanted = true
			sendCancel()
		case <-timerC:
			timerC = nil
			cancelWanted = true
			sendCancel()
			_ = tx.Respond(siputil.Response(req, 408, "Request Timeout"))
			return ErrTimeout
		case <-ctx.Done():
			ctr.Terminate()
			_ = tx.Respond(siputil.Response(req, 503, "Service Unavailable", retryAfter(5)))
			return ctx.Err()
		}
	}
}

// failed answers the server transaction after the client transaction
// ended without a final response.
func (p *Proxy) failed(req *sip.Request, tx sip.ServerTransaction, err error, server bool) error {
	if errors.Is(err, sip.ErrTransactionTimeout) {
		if server { // the next hop is a server: say the failure was upstream
			_ = tx.Respond(siputil.Response(req, 504, "Server Time-out"))
		} else {
			_ = tx.Respond(siputil.Response(req, 408, "Request Timeout"))
		}
		return ErrTimeout
	}
	_ = tx.Respond(siputil.Response(req, 480, "Temporarily Unavailable"))
	return fmt.Errorf("%w: %w", ErrUnreachable, err)
}

// cancel sends a CANCEL for the forwarded INVITE (RFC 3261 9.1): same
// Request-URI, Call-ID, From, To, CSeq number and top Via.
func (p *Proxy) cancel(fwd *sip.Request) {
	c := sip.NewRequest(sip.CANCEL, *fwd.Recipient.Clone())
	c.SipVersion = fwd.SipVersion
	if v := fwd.Via(); v != nil {
		c.AppendHeader(v.Clone())
	}
	for _, name := range []string{"Route"} {
		for _, h := range fwd.GetHeaders(name) {
			c.AppendHeader(sip.HeaderClone(h))
		}
	}
	mf := sip.MaxForwardsHeader(70)
	c.AppendHeader(&mf)
	if h := fwd.From(); h != nil {
		c.AppendHeader(sip.HeaderClone(h))
	}
	if h := fwd.To(); h != nil {
		c.AppendHeader(sip.HeaderClone(h))
	}
	if h := fwd.CallID(); h != nil {
		c.AppendHeader(sip.HeaderClone(h))
	}
	if h := fwd.CSeq(); h != nil {
		c.AppendHeader(&sip.CSeqHeader{SeqNo: h.SeqNo, MethodName: sip.CANCEL})
	}
	c.SetTransport(fwd.Transport())
	c.SetDestination(fwd.Destination())
	c.Laddr = fwd.Laddr
	ctx, stop := context.WithTimeout(context.Background(), 40*time.Second)
	ctr, err := p.txl.Request(ctx, c)
	if err != nil {
		stop()
		p.log.Debug("cancel not sent", "error", err)
		return
	}
	go func() {
		defer stop()
		select {
		case <-ctr.Done():
		case <-ctx.Done():
			ctr.Terminate()
		}
	}()
}

// relayStateless sends a response one hop back by its (new) top Via.
func (p *Proxy) relayStateless(res *sip.Response) {
	ours := res.Via()
	relay := popVia(res)
	if ours != nil && p.cfg.RewriteStateless != nil && !p.cfg.RewriteStateless(ours, relay) {
		p.log.Debug("stateless relay dropped by its rewrite", "status", res.StatusCode)
		return
	}
	next := relay.Via()
	if next == nil {
		return
	}
	// The previous hop may be on another transport than the one the
	// response came in on: send it by the next Via's.
	relay.SetTransport(next.Transport)
	if err := p.tpl.WriteMsg(relay); err != nil {
		p.log.Debug("stateless relay failed", "status", res.StatusCode, "error", err)
	}
}

// Relayer is a server transaction that relays a response itself: as it
// stands but for its top Via (ours), serialised without a copy
// (siputil.WriteRelayed). core/pipeline's UDP transactions are ones.
type Relayer interface {
	RespondRelayed(res *sip.Response) error
}

// relay sends res, a response from the next hop, to the previous one
// through tx: rewritten when rewrite is set, without a copy when tx can.
func relay(tx sip.ServerTransaction, res *sip.Response, rewrite func(*sip.Response)) error {
	if r, ok := tx.(Relayer); ok && rewrite == nil {
		return r.RespondRelayed(res)
	}
	out := popVia(res)
	if rewrite != nil {
		rewrite(out)
	}
	return tx.Respond(out)
}

// popVia copies a response for the previous hop: without our Via, and
// with the destination worked out afresh from the next Via (Clone keeps
// the one computed from ours).
func popVia(res *sip.Response) *sip.Response {
	relay := res.Clone()
	relay.RemoveHeader("Via")
	relay.SetDestination("")
	return relay
}

// HandleStrayResponse relays a response that matches no client
// transaction when its top Via is ours (RFC 3261 16.7 / 18.1.2).
func (p *Proxy) HandleStrayResponse(res *sip.Response) {
	v := res.Via()
	if v == nil || !p.ls.IsOwn(v.Host, v.Port) {
		return
	}
	p.relayStateless(res)
}

// ForwardStateless sends a request (an ACK for a 2xx) to t without a
// transaction, with our Via on top.
func (p *Proxy) ForwardStateless(req *sip.Request, t Target) error {
	fwd, _, err := p.prepare(req, t, false, nil)
	if err != nil {
		return err
	}
	if err := p.tpl.WriteMsg(fwd); err != nil {
		return fmt.Errorf("proxy: forward %s: %w", req.Method, err)
	}
	return nil
}
