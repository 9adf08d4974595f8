package pipeline

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/resolve"
	"github.com/parley-rtc/parley/core/router"
	"github.com/parley-rtc/parley/core/transport"
)

// Federation (docs/federation.md): a request from a mutual TLS (server)
// listener comes from a cluster member (trusted-peers) or from an allowed
// partner, named by its certificate; a partner may only speak for its own
// domain. Requests for another domain leave only for allowed partners,
// through the partner's explicit next hop, a static route, or RFC 3263 DNS,
// trying the targets in order.

// admitPeer classifies a request from a server listener by the
// certificate its connection presented; answered means it answered 403.
func (p *Pipeline) admitPeer(c *call) step {
	if c.in.Trust != transport.Server {
		return proceed
	}
	var names []string
	if stx, ok := c.tx.(*sip.ServerTx); ok {
		names = transport.PeerNames(stx.Connection())
	}
	for _, n := range names {
		if slices.Contains(p.cfg.TrustedPeers, n) {
			return proceed // a cluster member
		}
	}
	for _, n := range names {
		if pt, ok := p.cfg.State.PartnerByIdentity(n); ok {
			c.partner = &pt
			if from := strings.ToLower(c.req.From().Address.Host); from != pt.Domain {
				p.refuse(c, "partner_wrong_domain", "Forbidden (From is not in the partner's domain)")
				return answered
			}
			return proceed
		}
	}
	p.refuse(c, "peer_not_allowed", "Forbidden (not a cluster member or an allowed federation partner)")
	return answered
}

// refuse answers 403, logs and counts why.
func (p *Pipeline) refuse(c *call, reason, phrase string) {
	p.cfg.Metrics.Dropped.WithLabelValues(reason).Inc()
	p.log.Warn("request refused", "reason", reason, "method", c.req.Method, "from", c.req.From().Address.String(), "source", c.source)
	p.respond(c, 403, phrase)
}

// routeForeign sends a request for another domain: to an allowed partner,
// or by a static route the operator set up; a trusted connection may also
// name an IP. A partner's request never transits to a third domain.
// Anyone else gets 403.
func (p *Pipeline) routeForeign(c *call) {
	u := c.req.Recipient
	if c.partner != nil {
		p.refuse(c, "partner_transit", "Forbidden (no transit through this domain)")
		return
	}
	if pt, ok := p.cfg.State.Partner(u.Host); ok {
		p.routePartner(c, pt)
		return
	}
	if m, ok := p.cfg.Routes.Lookup(u); ok {
		p.forward(c, hopTarget(u, m.NextHop))
		return
	}
	if isIP(u.Host) {
		if !c.trusted {
			p.drop(c, "ip_destination_not_allowed")
			return
		}
		p.forward(c, hopTarget(u, u))
		return
	}
	p.respond(c, 403, "Forbidden (not a federation partner)")
}

// routePartner forwards to a partner through its next hop, a static
// route, or DNS on its name, failing over along the targets found.
func (p *Pipeline) routePartner(c *call, pt state.Partner) {
	u := c.req.Recipient
	hop := u
	switch {
	case pt.NextHop != "":
		if err := sip.ParseUri(pt.NextHop, &hop); err != nil {
			p.respond(c, 500, "Server Internal Error (bad partner next hop)")
			return
		}
	default:
		if m, ok := p.cfg.Routes.Lookup(u); ok {
			hop = m.NextHop
		} else if pt.DNSName != "" {
			hop = *u.Clone()
			hop.Host, hop.Port = pt.DNSName, 0
		}
	}
	targets, s := p.resolveHop(c, hop)
	if s != proceed {
		return
	}
	p.forwardSerial(c, u, targets)
}

// resolveHop turns a next-hop URI into targets by RFC 3263 (proceed),
// or answers c (404 when DNS names no server, 503 when DNS failed).
func (p *Pipeline) resolveHop(c *call, hop sip.Uri) ([]resolve.Target, step) {
	if p.cfg.Resolver == nil {
		return []resolve.Target{{Transport: netOf(hop), Addr: routeDest(hop)}}, proceed
	}
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	ts, err := p.cfg.Resolver.Resolve(ctx, hop)
	switch {
	case err == nil && len(ts) > 0:
		return ts, proceed
	case err == nil, errors.Is(err, resolve.ErrNoTarget):
		p.respond(c, 404, "Not Found (no server for that domain)")
	default:
		p.log.Warn("dns lookup failed", "hop", hop.String(), "error", err)
		p.respond(c, 503, "Service Unavailable (DNS lookup failed)", retryAfter(5))
	}
	return nil, answered
}

// forwardSerial tries targets in order: a target that cannot be reached,
// stays silent past the failover wait, or answers 503 gives way to the
// next (RFC 3263 4.3); the last one is answered like any forward.
func (p *Pipeline) forwardSerial(c *call, ruri sip.Uri, targets []resolve.Target) {
	usable := targets[:0:0]
	for _, rt := range targets {
		if _, err := p.cfg.Listeners.For(rt.Transport); err == nil {
			usable = append(usable, rt) // we can only send over transports we listen on
		}
	}
	if len(usable) == 0 {
		p.respond(c, 503, "Service Unavailable (no listener for the next hop's transports)", retryAfter(60))
		return
	}
	targets = usable
	for i, rt := range targets {
		t := proxy.Target{URI: ruri, Dest: rt.Addr, Transport: rt.Transport, Server: true}
		if i < len(targets)-1 {
			t.Failover, t.NoAnswer = true, router.FailoverWait(p.cfg.TxLifetime)
		}
		err := p.forward(c, t)
		if !t.Failover || !errors.Is(err, proxy.ErrFailover) {
			return
		}
		p.cfg.Metrics.Forwarded.WithLabelValues(string(c.req.Method), "failover").Inc()
		p.log.Info("next hop failed; trying the next target", "target", rt.Addr, "transport", rt.Transport, "error", err)
	}
}
