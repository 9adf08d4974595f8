package pipeline

import (
	"context"
	"net"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/location"
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/router"
	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/core/transport"
)

// Cluster forwarding (home*.go): the home side of home-node routing
// (here), singleton plugins at their lease holder (home_lease.go) and the
// director's redirect (home_director.go). The sending side and the
// assignment rule are core/router's (home.go, assign.go).

// The home side of home-node routing (docs/architecture.md, "Cluster
// routing"; the sending side, the ph Route and its token, is
// core/router's home.go): a member routed a request here for a binding
// homed on this node. The home node consumes the Route, finds the
// binding and sends the request down its flow without running the
// application chain again (it ran on the first node). Both nodes
// record-route, so in-dialog requests follow the same path. The ph
// parameter is honoured only on the cluster link, from a member's
// address, with a valid token; anywhere else it gets 403.

// refuseForgedHome answers 403 when a request from a client listener
// carries a Route with our home marker: only members route to a binding
// directly, over the cluster link (or a mutual-TLS server listener, when
// that is what a member publishes as its SIP address; the token still
// has to be right). It runs before untrusted Routes are stripped.
func (p *Pipeline) refuseForgedHome(c *call) step {
	if c.in.Trust == transport.Cluster || c.in.Trust == transport.Server {
		return proceed
	}
	if !hasHomeRoute(c.req) {
		return proceed
	}
	p.cfg.Metrics.Dropped.WithLabelValues("forged_home_route").Inc()
	p.respond(c, 403, "Forbidden (cluster route from outside the cluster)")
	return answered
}

// hasHomeRoute reports whether req carries a Route with one of our
// cluster markers (a binding's home node, a singleton plugin's holder).
func hasHomeRoute(req *sip.Request) bool {
	for _, h := range req.Headers() { // by type: GetHeaders lower-cases every header's name
		if r, ok := h.(*sip.RouteHeader); ok && (r.Address.UriParams.Has(router.HomeParam) || r.Address.UriParams.Has(pluginParam)) {
			return true
		}
	}
	return false
}

// noteHomeRoute adds to got the cluster marker a consumed Route of ours
// names, and whether its token is right (the link is the only way in for
// it: refuseForgedHome ran first).
func (p *Pipeline) noteHomeRoute(req *sip.Request, r sip.Uri, got *consumed) {
	if mark, ok := r.UriParams.Get(pluginParam); ok {
		got.plugin = mark
		got.valid = proxy.ValidToken(p.Secret(), r, router.TokenInput(req, mark))
		return
	}
	mark, ok := r.UriParams.Get(router.HomeParam)
	if !ok {
		return
	}
	got.home = mark
	got.valid = proxy.ValidToken(p.Secret(), r, router.TokenInput(req, mark))
}

// fromMember reports whether a request on the cluster link comes from a
// member: its source IP is the host of a member's link or raft address.
func (p *Pipeline) fromMember(source string) bool {
	ip := ipOf(source)
	for _, m := range p.cfg.State.Members() {
		link, _ := location.ParseLink(m.SIPAddr)
		for _, a := range []string{link.HostPort, m.RaftAddr} {
			if h, _, err := net.SplitHostPort(a); err == nil && sameHost(h, ip) {
				return true
			}
		}
	}
	return false
}

// sameHost compares a configured host (an IP or a name) with a source IP.
func sameHost(host, ip string) bool {
	if strings.EqualFold(strings.Trim(host, "[]"), ip) {
		return true
	}
	if net.ParseIP(host) != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if a == ip {
			return true
		}
	}
	return false
}

// deliverHome sends a request another member routed here down the flow
// of the binding its Route named (c.routes.home).
func (p *Pipeline) deliverHome(c *call) {
	if p.checkRouteToken(c) != proceed {
		return
	}
	aor, key, ok := router.DecodeHomeMark(c.routes.home)
	if !ok {
		p.respond(c, 400, "Bad Request (cluster route)")
		return
	}
	for _, b := range p.cfg.Location.Current(aor) {
		if b.Key() != key || b.Home != p.cfg.Node {
			continue
		}
		t, err := router.LocalTarget(b)
		if err != nil {
			p.respond(c, 500, "Server Internal Error (bad contact)")
			return
		}
		t.URI = c.req.Recipient
		rr := siputil.IsInitial(c.req) && proxy.RecordRoutes(c.req.Method)
		err = p.cfg.Proxy.Forward(p.ctx, c.req, c.tx, t, rr, c.in)
		p.countForward(c.req, err)
		return
	}
	p.respond(c, 480, "Temporarily Unavailable (binding no longer homed here)")
}

// clusterOut makes an in-dialog hop to a member's link leave through
// our end of the link.
func (p *Pipeline) clusterOut(t *proxy.Target) {
	out := router.ClusterListener(p.cfg.Listeners)
	if out == nil || t.Dest == "" {
		return
	}
	for _, m := range p.cfg.State.Members() {
		if link, ok := location.ParseLink(m.SIPAddr); ok && link.HostPort == t.Dest && link.Network == out.Network {
			t.Out, t.Transport = out, out.Network
			return
		}
	}
}

// checkRouteToken answers 403 unless the cluster Route marker c arrived
// with carried a valid token (c.routes.valid: noteHomeRoute checked it).
func (p *Pipeline) checkRouteToken(c *call) step {
	if c.routes.valid {
		return proceed
	}
	p.cfg.Metrics.Dropped.WithLabelValues("forged_home_route").Inc()
	p.respond(c, 403, "Forbidden (bad cluster route token)")
	return answered
}
