package pipeline

import (
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/siputil"
)

// preprocessRoutes (RFC 3261 16.4): an initial request that is not
// trusted loses every Route and Record-Route (a client may not choose our
// next hops); a partner's initial request loses its Route set after ours
// (it names its own route set, never our internal hops); then Route
// entries naming this node are consumed.
func (p *Pipeline) preprocessRoutes(c *call) {
	req := c.req
	if !c.trusted && siputil.IsInitial(req) {
		for req.RemoveHeader("Route") {
		}
		for req.RemoveHeader("Record-Route") {
		}
	}
	if c.partner != nil && siputil.IsInitial(req) {
		p.consumeOwnRoutes(c)
		for req.RemoveHeader("Route") {
		}
	}
	p.consumeOwnRoutes(c)
}

// consumeOwnRoutes removes Route entries naming this node (RFC 3261 16.4)
// and notes whether one carried this dialog's token. Without a valid
// token an in-dialog request is treated like an initial one (challenged,
// then routed by its Request-URI), so our Route alone never makes us an
// open relay.
func (p *Pipeline) consumeOwnRoutes(c *call) {
	secret := p.Secret()
	for {
		r := c.req.Route()
		if r == nil || !proxy.IsOwnRoute(p.cfg.Listeners, r.Address) {
			break
		}
		if proxy.ValidToken(secret, r.Address, string(*c.req.CallID())) {
			c.ownRoute = true
		}
		p.noteHomeRoute(c, r.Address)
		noteHiddenRoutes(c, r.Address)
		c.req.RemoveHeader("Route")
	}
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
				t.Dest, t.Transport = b.Source, b.Transport
				break
			}
		}
	}
	return t
}

// forwardInDialog relays an in-dialog request along its route set.
func (p *Pipeline) forwardInDialog(c *call) {
	if p.hiding() && !p.unhide(c) {
		p.respond(c, 404, "Not Found (unknown dialog)")
		return
	}
	t := p.nextHop(c)
	p.hide(c, &t)
	err := p.cfg.Proxy.Forward(p.ctx, c.req, c.tx, t, false, c.in)
	p.countForward(c.req, err)
}

// handleAck forwards an ACK for a 2xx along its route set (ACKs for
// non-2xx are absorbed by the transaction layer before they get here).
func (p *Pipeline) handleAck(c *call) {
	p.consumeOwnRoutes(c)
	if !c.ownRoute {
		p.cfg.Metrics.Dropped.WithLabelValues("ack_without_route").Inc()
		return
	}
	if p.hiding() {
		u := c.req.Recipient
		if strings.HasPrefix(u.User, maskPrefix) {
			if !p.unhide(c) {
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
