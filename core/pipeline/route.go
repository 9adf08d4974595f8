package pipeline

import (
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/core/transport"

	"github.com/emiago/sipgo/sip"
)

// The request path, like Kamailio's request_route: every request a
// listener hands us (Handle, or the UDP direct path) runs these steps in
// this order. Each is a named function in the file (or package) that
// owns it and returns a step; the path stops at the first that does not
// proceed. docs/architecture.md opens with the same road by method.
//
//	REQINIT     admitCluster    cluster link: members only           (route.go)
//	            admitLink       SIP link: a plugin's credential      (link.go)
//	            admitFlood      trust class, per-source rate limit   (route.go)
//	WITHINDLG   handleAck       ACK for a 2xx along its route set    (dialog.go)
//	            admitConn       10 transactions per client connection (route.go)
//	            ready           the cluster secret is in             (route.go)
//	VALIDATE    validate        RFC 3261 8.2 and 16.3                (validate.go)
//	            refuseForgedHome a cluster Route from outside: 403   (home.go)
//	            admitPeer       mutual TLS: member or partner        (partners.go)
//	            preprocessRoutes untrusted Routes out, ours consumed (dialog.go)
//	            cancel          CANCEL for the direct path           (route.go)
//	            withinDialog    home-node delivery, singleton holder,
//	                            in-dialog requests on their route set (home.go, home_lease.go, dialog.go)
//	            edgeRegister    an edge has no registrar: 403        (route.go)
//	AUTH        authenticate    digest for client connections        (authn.go)
//	REGISTRAR,  userServices    REGISTER, OPTIONS to us, presence    (services.go)
//	PRESENCE
//	CHAIN       route           the application chain; the router    (chain.go, core/router)
//	RELAY       protocolStack / forwardChoice: the proxy core        (chain.go, strict.go, partners.go, services.go)

// step is what a step of the request path did with a call.
type step uint8

const (
	// proceed: the step let the call through to the next one.
	proceed step = iota
	// answered: the step sent the call's final response, or dropped the
	// request; it ends here.
	answered
	// forwarded: the step handed the request to the proxy core, which
	// relays the next hop's answer; it ends here.
	forwarded
)

// serve takes a request from the listener it arrived on to its answer.
func (p *Pipeline) serve(c *call) {
	// A held call (the registrar answers after serve returns) gives back
	// its transaction slot itself; settle is a no-op for a call without one.
	defer func() {
		if !c.held {
			p.settle(c)
		}
	}()
	if p.admitCluster(c) != proceed || p.admitLink(c, stripLink(c.req)) != proceed || p.admitFlood(c) != proceed {
		return
	}
	if c.req.IsAck() {
		p.handleAck(c)
		return
	}
	if p.admitConn(c) != proceed || p.ready(c) != proceed ||
		p.validate(c) != proceed || p.refuseForgedHome(c) != proceed || p.admitPeer(c) != proceed {
		return
	}
	c.routes = p.preprocessRoutes(c)
	if p.cancel(c) != proceed || p.withinDialog(c) != proceed || p.edgeRegister(c) != proceed ||
		p.authenticate(c) != proceed {
		return
	}
	p.trying(c)
	p.userServices(c)
}

// trying answers an INVITE 100 Trying now that it is admitted (RFC 3261
// 16.2: a stateful proxy sends one for INVITE, as Kamailio's tm does),
// before the chain, a plugin or a failover wait may hold it. It also
// stops sipgo's own 200 ms timer, which would build its 100 from the
// request on another goroutine while the path changes the request's
// headers (a data race).
func (p *Pipeline) trying(c *call) {
	if c.req.IsInvite() && c.tx != nil {
		_ = c.tx.Respond(siputil.Response(c.req, 100, "Trying"))
	}
}

// admitCluster: on a TLS cluster link the handshake proved membership
// (a cluster-CA certificate); on a TCP link the source address has to.
func (p *Pipeline) admitCluster(c *call) step {
	if c.in.Trust != transport.Cluster || c.in.Scheme == "tls" || p.fromMember(c.source) {
		return proceed
	}
	p.cfg.Metrics.Dropped.WithLabelValues("not_a_member").Inc()
	if !c.req.IsAck() {
		p.respond(c, 403, "Forbidden (not a cluster member)")
	}
	return answered
}

// admitFlood decides whether c is trusted (a server, trusted, cluster or
// link listener, or a trusted static route's next hop) and drops an
// untrusted source over its rate.
func (p *Pipeline) admitFlood(c *call) step {
	c.trusted = c.trusted || c.in.Trust != transport.Client || p.cfg.Routes.TrustedSource(c.in.Network, c.source)
	if !c.trusted && !p.cfg.Flood.Allow(ipOf(c.source)) {
		p.cfg.Metrics.Dropped.WithLabelValues("flood").Inc()
		return answered
	}
	return proceed
}

// admitConn takes one of an untrusted connection's outstanding
// transaction slots (max-tx-per-conn); the next gets 503.
func (p *Pipeline) admitConn(c *call) step {
	if c.trusted {
		return proceed
	}
	conn := c.in.Network + "|" + c.source
	if !p.limit.acquire(conn) {
		p.cfg.Metrics.Dropped.WithLabelValues("throttled").Inc()
		p.respond(c, 503, "Service Unavailable (too many outstanding requests)", retryAfter(1))
		return answered
	}
	c.limitConn, c.limiter = conn, p.limit
	return proceed
}

// ready answers 503 until the node has the cluster secret.
func (p *Pipeline) ready(c *call) step {
	if p.auth.Load() == nil {
		p.respond(c, 503, "Service Unavailable (starting)", retryAfter(2))
		return answered
	}
	return proceed
}

// cancel answers a CANCEL that reached the pipeline: sipgo answers
// CANCELs that match its transactions. One that matches a request on the
// direct path (never an INVITE) gets 200 and changes nothing (RFC 3261
// 9.2); others 481.
func (p *Pipeline) cancel(c *call) step {
	if !c.req.IsCancel() {
		return proceed
	}
	if p.udp.CancelsDirect(c.in, c.req, c.source) {
		p.respond(c, 200, "OK")
		return answered
	}
	p.respond(c, 481, "Call/Transaction Does Not Exist")
	return answered
}

// withinDialog sends on what a consumed Route of ours already decided
// (c.routes, from preprocessRoutes): a binding homed here that a member
// routed to (deliverHome), a singleton plugin running here
// (deliverPlugin), or an in-dialog request with our valid token
// (forwardInDialog).
func (p *Pipeline) withinDialog(c *call) step {
	switch c.routes.kind(c.req) {
	case routeHome: // a member routed it to a binding homed here
		p.deliverHome(c)
	case routePlugin: // a member routed it to a singleton plugin running here
		p.deliverPlugin(c)
	case routeInDialog:
		p.forwardInDialog(c)
	default:
		return proceed
	}
	return forwarded
}

// edgeRegister refuses REGISTER on an edge, before any challenge: an
// edge has no users to register.
func (p *Pipeline) edgeRegister(c *call) step {
	if p.cfg.Role == state.RoleEdge && c.req.Method == sip.REGISTER {
		p.respond(c, 403, "Forbidden (this is an edge proxy: register with your home server)")
		return answered
	}
	return proceed
}
