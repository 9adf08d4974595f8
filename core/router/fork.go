package router

import (
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/location"
	"github.com/parley-rtc/parley/core/proxy"
)

// Parallel forking (docs/architecture.md, "Endpoint choice and
// failover"): an initial INVITE to a user with several endpoints goes to
// all of them at once (RFC 3261 16.6/16.7, the proxy's Fork): the
// user's live bindings whose home node is reachable, best first, the
// do-not-disturb ones (their published presence) left out while another
// exists, at most Config.MaxBranches. With one endpoint left, or
// Config.Serial, the INVITE fails over one endpoint at a time (Forward).

// ForkFunc sends req to every target at once (the pipeline's fork: the
// proxy's Fork) and reports per branch; eps[i] is the binding ts[i]
// stands for.
type ForkFunc func(ts []proxy.Target, eps []Endpoint) proxy.ForkResult

// maxBranches is Config.MaxBranches, 8 when unset, at most 32.
func (r *Router) maxBranches() int {
	n := r.cfg.MaxBranches
	if n <= 0 {
		n = 8
	}
	return min(n, 32)
}

// Route forwards req to the router's choice: a forked INVITE when
// Branches finds several endpoints, otherwise Forward. exhausted is
// true when no endpoint could be reached and the caller has not been
// answered: it gets Unreachable(err).
func (r *Router) Route(req *sip.Request, ch Choice, send func(proxy.Target, Endpoint) error, fork ForkFunc) (exhausted bool, err error) {
	if fork != nil {
		if ts, eps := r.Branches(req, ch); len(ts) > 1 {
			r.cfg.Metrics.Forwarded.WithLabelValues(string(req.Method), "fork").Inc()
			res := fork(ts, eps)
			for i, err := range res.Errs {
				if err != nil && res.Winner != i {
					// Silent or unreachable: the user's other endpoints
					// come first from now on, until it is heard from.
					r.cfg.Location.Demote(eps[i].AOR, eps[i].Key)
				}
			}
			return !res.Answered, res.Err()
		}
	}
	return r.Forward(req, ch, send)
}

// Branches is where an initial INVITE forks to: one target per
// endpoint, best first (ch's endpoint among them), nil when it is not
// to be forked (not an initial INVITE, serial forking, or fewer than two
// endpoints to ring).
func (r *Router) Branches(req *sip.Request, ch Choice) ([]proxy.Target, []Endpoint) {
	if r.cfg.Serial || req.Method != sip.INVITE {
		return nil, nil
	}
	if to := req.To(); to != nil && to.Params != nil && to.Params.Has("tag") {
		return nil, nil
	}
	aor := ch.Endpoint.AOR
	bs := r.cfg.Location.Current(aor)
	if len(bs) < 2 {
		return nil, nil
	}
	ranks := r.cfg.Location.Ranks(aor, bs)
	calls := 0 // endpoints that take calls
	for i := range bs {
		if ranks == nil || ranks[i] < location.DoNotDisturb {
			calls++
		}
	}
	var ts []proxy.Target
	var eps []Endpoint
	limit := r.maxBranches()
	for i, b := range bs {
		if len(ts) == limit {
			break
		}
		if calls > 0 && ranks != nil && ranks[i] >= location.DoNotDisturb {
			continue // do not disturb: no calls while another endpoint takes them
		}
		if r.cfg.Location.HomeDown(b.Home) {
			continue
		}
		t, err := r.bindingTarget(req, aor, b)
		if err != nil {
			r.log.Warn("binding left out of the fork", "aor", aor, "home", b.Home, "error", err)
			continue
		}
		ep := Endpoint{AOR: aor, Key: b.Key(), Home: b.Home}
		r.branchTarget(req, &t, ep)
		ts, eps = append(ts, t), append(eps, ep)
	}
	if len(ts) < 2 {
		return nil, nil
	}
	return ts, eps
}

// branchTarget sets how long a branch may stay silent (its 100 Trying
// counts as an answer) before it is given up: the failover timer for an
// endpoint homed here, and through another node's link the liveness
// rule of serial failover (failoverTarget).
func (r *Router) branchTarget(req *sip.Request, t *proxy.Target, ep Endpoint) {
	t.Failover, t.Alive = false, nil
	if ep.Home == r.cfg.Node {
		t.NoAnswer = r.failoverTimer()
		return
	}
	home := ep.Home
	t.NoAnswer = FailoverWait(r.cfg.TxLifetime)
	t.Alive = func() bool { return !r.cfg.Location.HomeDown(home) }
}
