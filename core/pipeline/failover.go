package pipeline

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
// that refused us is marked down as before (forward), so the next
// requests skip its bindings at once.

// endpoint is the binding the router chose for a request.
type endpoint struct {
	aor, key, home string
}

// errBadContact: a stored binding's contact does not parse.
var errBadContact = errors.New("pipeline: binding contact does not parse")

// bindingTarget is where a request for binding b of aor goes: down the
// flow when it is homed here, else through its home node's link.
func (p *Pipeline) bindingTarget(c *call, aor string, b state.Binding) (proxy.Target, error) {
	var t proxy.Target
	if err := sip.ParseUri(b.Contact, &t.URI); err != nil {
		return t, fmt.Errorf("%w: %w", errBadContact, err)
	}
	if b.Home != p.cfg.Node {
		return p.homeTarget(c, aor, b, t.URI)
	}
	t.Dest, t.Transport = b.Source, b.Transport
	return t, nil
}

// refuseBinding answers a request whose binding cannot be targeted.
func (p *Pipeline) refuseBinding(c *call, err error) {
	if errors.Is(err, errBadContact) {
		p.respond(c, 500, "Server Internal Error (bad contact)")
		return
	}
	p.respond(c, 480, "Temporarily Unavailable")
}

// forwardBest forwards c to t, the router's binding (c.endpoint), and on
// to the next-best bindings while the chosen one cannot be reached.
func (p *Pipeline) forwardBest(c *call, t proxy.Target) {
	if c.endpoint == nil {
		p.forward(c, t)
		return
	}
	ep := *c.endpoint
	tried := map[string]bool{ep.key: true}
	deadline := time.Now().Add(timerJ(p.cfg.TxLifetime))
	for {
		p.failoverTarget(&t, ep, tried)
		err := p.forward(c, t)
		if !t.Failover || !errors.Is(err, proxy.ErrFailover) {
			return
		}
		p.cfg.Metrics.Forwarded.WithLabelValues(string(c.req.Method), "failover").Inc()
		p.log.Info("endpoint unreachable; trying the next one", "aor", ep.aor, "home", ep.home, "error", err)
		next, ok := p.nextEndpoint(c, ep.aor, tried, deadline, &t)
		if !ok {
			p.answerUnreached(c, err)
			return
		}
		ep = next
	}
}

// failoverTarget makes t give way to the next binding when another one
// could still be tried: a home node's link that stays silent is given up
// after the failover wait once liveness sees the node down.
func (p *Pipeline) failoverTarget(t *proxy.Target, ep endpoint, tried map[string]bool) {
	t.Failover, t.NoAnswer, t.Alive = false, 0, nil
	for _, b := range p.cfg.Location.Current(ep.aor) {
		if !tried[b.Key()] && !p.cfg.Location.HomeDown(b.Home) {
			t.Failover = true
			break
		}
	}
	if t.Failover && ep.home != p.cfg.Node {
		home := ep.home
		t.NoAnswer = p.failoverWait()
		t.Alive = func() bool { return !p.cfg.Location.HomeDown(home) }
	}
}

// nextEndpoint picks the best binding of aor not tried yet whose home is
// reachable and builds its target into t; false when there is none left
// or the transaction lifetime is over. Bindings that cannot be targeted
// are skipped (each at most once: the loop is bounded by the bindings).
func (p *Pipeline) nextEndpoint(c *call, aor string, tried map[string]bool, deadline time.Time, t *proxy.Target) (endpoint, bool) {
	for time.Now().Before(deadline) {
		var b state.Binding
		found := false
		for _, cand := range p.cfg.Location.Current(aor) {
			if !tried[cand.Key()] && !p.cfg.Location.HomeDown(cand.Home) {
				b, found = cand, true
				break
			}
		}
		if !found {
			return endpoint{}, false
		}
		tried[b.Key()] = true
		nt, err := p.bindingTarget(c, aor, b)
		if err != nil {
			p.log.Warn("binding skipped", "aor", aor, "home", b.Home, "error", err)
			continue
		}
		*t = nt
		return endpoint{aor: aor, key: b.Key(), home: b.Home}, true
	}
	return endpoint{}, false
}

// answerUnreached answers a request none of whose endpoints could be
// reached, after the last one failed with err (left unanswered for
// failover): 408 when it stayed silent, 480 otherwise.
func (p *Pipeline) answerUnreached(c *call, err error) {
	if errors.Is(err, proxy.ErrTimeout) {
		p.respond(c, 408, "Request Timeout")
		return
	}
	p.respond(c, 480, "Temporarily Unavailable")
}
