package router

import (
	"errors"
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/proxy"
)

// Endpoint failover (docs/architecture.md, "Node loss"): the router picks
// one best binding cluster-wide. When that binding turns out to be
// unreachable while the request is on its way - its home node's link
// refuses the connection, or stays silent while this node's liveness
// view sees the node down, or a local flow is gone - the same request
// goes to the next-best binding. Each binding is tried at most once, and
// only while the transaction lifetime lasts; the caller gets 480 (408 for
// a silent endpoint) only when no endpoint could be reached. A home node
// that refused us is marked down by the send function (the pipeline's
// forward), so the next requests skip its bindings at once.

// Forward sends req to ch with send, and on to the user's next-best
// bindings while the one tried cannot be reached. send forwards to one
// target (the binding it stands for is given) and returns the proxy's
// error. exhausted is true when no endpoint could be reached and the
// caller has not been answered: it gets Unreached(err).
func (r *Router) Forward(req *sip.Request, ch Choice, send func(proxy.Target, Endpoint) error) (exhausted bool, err error) {
	t, ep := ch.Target, ch.Endpoint
	tried := map[string]bool{ep.Key: true}
	deadline := time.Now().Add(lifetime(r.cfg.TxLifetime))
	for {
		r.failoverTarget(req, &t, ep, tried)
		err := send(t, ep)
		if errors.Is(err, proxy.ErrTimeout) || errors.Is(err, proxy.ErrUnreachable) {
			// Try the user's other endpoints first from now on, until
			// this one is heard from again.
			r.cfg.Location.Demote(ep.AOR, ep.Key)
		}
		if !t.Failover || !errors.Is(err, proxy.ErrFailover) {
			return false, err
		}
		r.cfg.Metrics.Forwarded.WithLabelValues(string(req.Method), "failover").Inc()
		r.log.Info("endpoint unreachable; trying the next one", "aor", ep.AOR, "home", ep.Home, "error", err)
		next, ok := r.nextEndpoint(req, ep.AOR, tried, deadline, &t)
		if !ok {
			return true, r.flowFailed(ep, err)
		}
		ep = next
	}
}

// ErrFlowFailed marks a failover that ended on an RFC 5626 outbound
// binding whose flow did not carry the request (answered 430).
var ErrFlowFailed = errors.New("router: outbound flow failed")

// flowFailed wraps err with ErrFlowFailed when ep, the last endpoint
// tried, is an outbound binding.
func (r *Router) flowFailed(ep Endpoint, err error) error {
	for _, b := range r.cfg.Location.Current(ep.AOR) {
		if b.Key() == ep.Key && b.Reach == state.ReachOutbound {
			return fmt.Errorf("%w: %w", ErrFlowFailed, err)
		}
	}
	return err
}

// Unreached is the answer to a request none of whose endpoints could be
// reached, after the last one failed with err: 430 Flow Failed when it
// was an outbound flow (RFC 5626 5.3), 408 when it stayed silent, 480
// otherwise.
func Unreached(err error) (code int, reason string) {
	if errors.Is(err, ErrFlowFailed) {
		return 430, "Flow Failed"
	}
	if errors.Is(err, proxy.ErrTimeout) {
		return 408, "Request Timeout"
	}
	return 480, "Temporarily Unavailable"
}

// failoverTarget makes t give way to the next binding when another one
// could still be tried: an endpoint that stays silent for the failover
// timer is given up (an INVITE's 100 Trying counts as an answer), and
// for an INVITE through another node's link, once liveness sees the
// node down.
func (r *Router) failoverTarget(req *sip.Request, t *proxy.Target, ep Endpoint, tried map[string]bool) {
	t.Failover, t.NoAnswer, t.Alive = false, 0, nil
	for _, b := range r.cfg.Location.Current(ep.AOR) {
		if !tried[b.Key()] && !r.cfg.Location.HomeDown(b.Home) {
			t.Failover = true
		}
		if b.Key() == ep.Key && b.Reach == state.ReachOutbound && ep.Home == r.cfg.Node {
			// Its flow failing is answered 430 (Unreached), not by the
			// proxy's 480: leave the caller to us.
			t.Failover = true
		}
	}
	switch {
	case !t.Failover:
	case !req.IsInvite() || ep.Home == r.cfg.Node:
		// The timer runs on this node, whichever node holds the flow: a
		// home node's late answer finds our transaction gone, harmless.
		t.NoAnswer = r.failoverTimer()
	default:
		home := ep.Home
		t.NoAnswer = FailoverWait(r.cfg.TxLifetime)
		t.Alive = func() bool { return !r.cfg.Location.HomeDown(home) }
	}
}

// failoverTimer is Config.FailoverTimer, 4 s when unset, at most half
// the transaction lifetime (so a second endpoint fits).
func (r *Router) failoverTimer() time.Duration {
	d := r.cfg.FailoverTimer
	if d <= 0 {
		d = 4 * time.Second
	}
	if h := lifetime(r.cfg.TxLifetime) / 2; d > h {
		d = h
	}
	return d
}

// nextEndpoint picks the best binding of aor not tried yet whose home is
// reachable and builds its target into t; false when there is none left
// or the transaction lifetime is over. Bindings that cannot be targeted
// are skipped (each at most once: the loop is bounded by the bindings).
func (r *Router) nextEndpoint(req *sip.Request, aor string, tried map[string]bool, deadline time.Time, t *proxy.Target) (Endpoint, bool) {
	for time.Now().Before(deadline) {
		var b state.Binding
		found := false
		for _, cand := range r.cfg.Location.Current(aor) {
			if !tried[cand.Key()] && !r.cfg.Location.HomeDown(cand.Home) {
				b, found = cand, true
				break
			}
		}
		if !found {
			return Endpoint{}, false
		}
		tried[b.Key()] = true
		nt, err := r.bindingTarget(req, aor, b)
		if err != nil {
			r.log.Warn("binding skipped", "aor", aor, "home", b.Home, "error", err)
			continue
		}
		*t = nt
		return Endpoint{AOR: aor, Key: b.Key(), Home: b.Home}, true
	}
	return Endpoint{}, false
}

// FailoverWait is how long a target may stay silent before the next one
// is tried: an eighth of the transaction lifetime (4 s by default), so
// several targets fit in the caller's transaction.
func FailoverWait(txLifetime time.Duration) time.Duration {
	if txLifetime <= 0 {
		return 4 * time.Second
	}
	return txLifetime / 8
}

// lifetime is the transaction lifetime (32 s when unset).
func lifetime(d time.Duration) time.Duration {
	if d <= 0 {
		return 32 * time.Second
	}
	return d
}
