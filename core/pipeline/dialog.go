package pipeline

import (
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/router"
	"github.com/parley-rtc/parley/core/siputil"
)

// consumed is what the Routes of ours that a request carried said, as
// consumeOwnRoutes found them. preprocessRoutes returns it, serve keeps
// it on the call (call.routes), withinDialog acts on it, and forwarding
// further on reads the dialog token (mayReach) and the hidden route set
// (topology hiding).
type consumed struct {
	// dialog: one carried this dialog's valid token (pt=): an in-dialog
	// request follows its route set without a new challenge.
	dialog bool
	// home: a binding homed here that a member routed the request to
	// (ph=, home.go); plugin: a singleton entry running here (pp=,
	// home_lease.go); valid: the token of the last of them was right.
	home, plugin string
	valid        bool
	// hidden: the sealed hidden route set (th-routes) of a dialog through
	// an edge that hides the topology (edge_topology.go).
	hidden string
}

// routeKind is what withinDialog does with a request, by what its
// consumed Routes said.
type routeKind uint8

const (
	routeNone     routeKind = iota // none of ours decided anything: on to AUTH
	routeHome                      // deliverHome
	routePlugin                    // deliverPlugin
	routeInDialog                  // forwardInDialog
)

// kind says where req goes: a cluster marker first, then an in-dialog
// request with our valid token.
func (got consumed) kind(req *sip.Request) routeKind {
	switch {
	case got.home != "":
		return routeHome
	case got.plugin != "":
		return routePlugin
	case got.dialog && !siputil.IsInitial(req):
		return routeInDialog
	}
	return routeNone
}

// preprocessRoutes (RFC 3261 16.4): an initial request that is not
// trusted loses every Route and Record-Route (a client may not choose our
// next hops); a partner's initial request loses its Route set after ours
// (it names its own route set, never our internal hops); then Route
// entries naming this node are consumed. It returns what they said.
func (p *Pipeline) preprocessRoutes(c *call) consumed {
	req := c.req
	if !c.trusted && siputil.IsInitial(req) {
		for req.RemoveHeader("Route") {
		}
		for req.RemoveHeader("Record-Route") {
		}
	}
	var got consumed
	if c.partner != nil && siputil.IsInitial(req) {
		got = p.consumeOwnRoutes(req, got)
		for req.RemoveHeader("Route") {
		}
	}
	return p.consumeOwnRoutes(req, got)
}

// consumeOwnRoutes removes Route entries naming this node (RFC 3261 16.4)
// and adds what they said to got: whether one carried this dialog's
// token, a cluster marker (noteHomeRoute), a hidden route set
// (noteHiddenRoutes). Without a valid token an in-dialog request is
// treated like an initial one (challenged, then routed by its
// Request-URI), so our Route alone never makes us an open relay.
func (p *Pipeline) consumeOwnRoutes(req *sip.Request, got consumed) consumed {
	secret := p.Secret()
	for {
		r := req.Route()
		if r == nil || !proxy.IsOwnRoute(p.cfg.Listeners, r.Address) {
			break
		}
		if proxy.ValidToken(secret, r.Address, string(*req.CallID())) {
			got.dialog = true
		}
		p.noteHomeRoute(req, r.Address, &got)
		noteHiddenRoutes(r.Address, &got)
		req.RemoveHeader("Route")
	}
	return got
}

// nextHop works out where an in-dialog request goes after our Routes are
// consumed: the next Route (loose routing), or the Request-URI, sent down
// the registered flow when it is a contact of the To user.
func (p *Pipeline) nextHop(c *call) proxy.Target {
	if r := c.req.Route(); r != nil {
		t := proxy.Target{URI: c.req.Recipient, Dest: routeDest(r.Address), Transport: netOf(r.Address)}
		p.clusterOut(&t)
		return t
	}
	t := proxy.Target{URI: c.req.Recipient}
	if to := c.req.To(); to != nil && p.isOurDomain(to.Address.Host, to.Address.Port) {
		for _, b := range p.cfg.Location.Current(p.aorFor(to.Address)) {
			// Only this node holds its own flows; a contact homed elsewhere
			// is reached by its URI (the dialog's route set, not ours,
			// decides whether it passes its home node).
			if b.Home == p.cfg.Node && sameContact(b.Contact, c.req.Recipient) {
				if lt, err := router.LocalTarget(b); err == nil {
					t.Dest, t.Transport, t.Routes = lt.Dest, lt.Transport, lt.Routes
				}
				break
			}
		}
	}
	return t
}

// forwardInDialog relays an in-dialog request along its route set.
func (p *Pipeline) forwardInDialog(c *call) {
	if p.hiding() {
		if err := p.unhide(c); err != nil {
			p.log.Debug("in-dialog request not unmasked", "error", err)
			p.respond(c, 404, "Not Found (unknown dialog)")
			return
		}
	}
	t := p.nextHop(c)
	p.hide(c, &t)
	err := p.cfg.Proxy.Forward(p.ctx, c.req, c.tx, t, false, c.in)
	p.countForward(c.req, err)
}

// handleAck forwards an ACK for a 2xx along its route set (ACKs for
// non-2xx are absorbed by the transaction layer before they get here).
func (p *Pipeline) handleAck(c *call) {
	c.routes = p.consumeOwnRoutes(c.req, consumed{})
	if !c.routes.dialog {
		p.cfg.Metrics.Dropped.WithLabelValues("ack_without_route").Inc()
		return
	}
	if p.hiding() {
		u := c.req.Recipient
		if strings.HasPrefix(u.User, maskPrefix) {
			if err := p.unhide(c); err != nil {
				p.log.Debug("ack not unmasked", "error", err)
				p.cfg.Metrics.Dropped.WithLabelValues("ack_bad_mask").Inc()
				return
			}
		} else if !p.isOurDomain(u.Host, u.Port) {
			// Outward: nothing answers an ACK, so no Via needs restoring.
			for c.req.RemoveHeader("Via") {
			}
		}
	}
	if err := p.cfg.Proxy.ForwardStateless(c.req, p.nextHop(c)); err != nil {
		p.log.Debug("ack not forwarded", "error", err)
		p.cfg.Metrics.Forwarded.WithLabelValues("ACK", "error").Inc()
		return
	}
	p.cfg.Metrics.Forwarded.WithLabelValues("ACK", "ok").Inc()
}

func routeDest(u sip.Uri) string {
	port := u.Port
	if port == 0 {
		port = 5060
		if u.IsEncrypted() {
			port = 5061
		}
	}
	if v, ok := u.UriParams.Get("maddr"); ok && v != "" {
		return net.JoinHostPort(v, strconv.Itoa(port))
	}
	return net.JoinHostPort(u.Host, strconv.Itoa(port))
}

func netOf(u sip.Uri) string {
	if v, ok := u.UriParams.Get("transport"); ok && v != "" {
		return strings.ToUpper(v)
	}
	if u.IsEncrypted() {
		return "TLS"
	}
	return "UDP"
}

// sameContact compares a stored contact with a Request-URI by user, host
// and port.
func sameContact(contact string, u sip.Uri) bool {
	var cu sip.Uri
	if err := sip.ParseUri(contact, &cu); err != nil {
		return false
	}
	return cu.User == u.User && strings.EqualFold(cu.Host, u.Host) && cu.Port == u.Port
}
