package pipeline

import (
	"net"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/staticroute"
)

// Strict-routed requests, the seed's "SIP protocol stack": the top Route
// replaces the Request-URI (or, with lr, names the next hop), maddr wins
// over the host, and an IP destination is used only when the request came
// from a server or trusted connection, belongs to a dialog we
// record-routed, or the static routing table names that IP; otherwise the
// request is dropped, logged and counted.

// forwardStrict sends a request along its Route or maddr.
func (p *Pipeline) forwardStrict(c *call) {
	req := c.req
	var t proxy.Target
	if r := req.Route(); r != nil {
		if r.Address.UriParams.Has("lr") { // loose routing (RFC 3261 16.6 step 7)
			t = proxy.Target{URI: req.Recipient, Dest: staticroute.Dest(r.Address), Transport: netOf(r.Address)}
		} else { // a strict route: it becomes the Request-URI
			req.Recipient = *r.Address.Clone()
			req.RemoveHeader("Route")
			t = proxy.Target{URI: req.Recipient, Dest: staticroute.Dest(req.Recipient), Transport: netOf(req.Recipient)}
		}
	} else {
		t = proxy.Target{URI: req.Recipient, Dest: staticroute.Dest(req.Recipient), Transport: netOf(req.Recipient)}
	}
	t.Server = true
	if p.mayReach(c, t.Dest) != proceed {
		return
	}
	p.forward(c, t)
}

// routePhone sends a tel: or user=phone request by the static routing
// table's phone prefixes (to an IP-PSTN gateway).
func (p *Pipeline) routePhone(c *call) {
	m, ok := p.cfg.Routes.Lookup(c.req.Recipient)
	if !ok {
		p.respond(c, 404, "Not Found (no route for that number)")
		return
	}
	p.forward(c, hopTarget(c.req.Recipient, m.NextHop))
}

func hopTarget(ruri, hop sip.Uri) proxy.Target {
	return proxy.Target{URI: ruri, Dest: staticroute.Dest(hop), Transport: netOf(hop), Server: true}
}

func isIP(host string) bool { return net.ParseIP(strings.Trim(host, "[]")) != nil }

// mayReach applies the IP destination rule to a next hop of c: proceed,
// or answered when it dropped c (an IP that c neither comes from a
// trusted source for, nor reaches along our dialog, nor finds in the
// static routes).
func (p *Pipeline) mayReach(c *call, dest string) step {
	host, _, err := net.SplitHostPort(dest)
	if err != nil || net.ParseIP(host) == nil {
		return proceed // a name: resolved and used like any next hop
	}
	if c.trusted || c.routes.dialog || p.cfg.Routes.NamesIP(host) {
		return proceed
	}
	p.drop(c, "ip_destination_not_allowed")
	return answered
}

// drop discards a request without an answer, as the seed's stack does.
// The transaction is kept, silent, for its lifetime so that
// retransmissions are absorbed instead of processed again; it holds one
// of the connection's outstanding-transaction slots meanwhile.
func (p *Pipeline) drop(c *call, reason string) {
	p.cfg.Metrics.Dropped.WithLabelValues(reason).Inc()
	p.log.Warn("request dropped", "reason", reason, "method", c.req.Method, "ruri", c.req.Recipient.String(), "source", c.source)
	t := time.NewTimer(p.cfg.TxLifetime)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.tx.Done():
	case <-p.ctx.Done():
	}
}

// hasForeignMaddr reports a maddr in u that does not name this node.
func hasForeignMaddr(p *Pipeline, u sip.Uri) bool {
	m, ok := u.UriParams.Get("maddr")
	if !ok || m == "" {
		return false
	}
	port := u.Port
	if port == 0 {
		port = 5060
	}
	return !p.cfg.Listeners.IsOwn(m, port)
}
