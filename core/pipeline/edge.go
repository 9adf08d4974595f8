package pipeline

import (
	"context"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/resolve"
)

// The edge (edge*.go): the edge role (here) and the topology hiding it
// may do (edge_topology.go, edge_topology_seal.go).

// The edge role (docs/federation.md): an access proxy in front of the
// cluster. It holds no users or bindings, so it runs no User Services and
// no application chain. What a partner sends for our domains goes inward
// to the configured directors or home nodes (edge-inward, in order, the
// next when one fails); what the cluster sends for a partner goes out by
// the partner's next hop, a static route or DNS. Clients cannot register
// here (403): they register with their home nodes, and an edge that
// relayed REGISTERs would only hide the real registrar from them.

// edgeServices routes a request on an edge node.
func (p *Pipeline) edgeServices(c *call) {
	req := c.req
	u := req.Recipient
	switch {
	case req.Method == sip.OPTIONS && u.User == "" && p.isOurDomain(u.Host, u.Port):
		p.respond(c, 200, "OK", sip.NewHeader("Allow", allow), sip.NewHeader("Accept", "application/sdp, text/plain"))
	case req.Route() != nil:
		p.forwardStrict(c) // a cluster member's route set (partners' Routes were removed)
	case p.isOurDomain(u.Host, u.Port):
		p.forwardInward(c)
	default:
		p.routeForeign(c)
	}
}

// forwardInward sends a request for one of our domains to the inward
// next hops, each resolved by RFC 3263, trying them in order.
func (p *Pipeline) forwardInward(c *call) {
	var targets []resolve.Target
	for _, hop := range p.cfg.EdgeInward {
		if p.cfg.Resolver == nil {
			targets = append(targets, resolve.Target{Transport: netOf(hop), Addr: routeDest(hop)})
			continue
		}
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		ts, err := p.cfg.Resolver.Resolve(ctx, hop)
		cancel()
		if err != nil {
			p.log.Warn("inward next hop does not resolve", "hop", hop.String(), "error", err)
			continue
		}
		targets = append(targets, ts...)
	}
	if len(targets) == 0 {
		p.respond(c, 503, "Service Unavailable (no inward next hop)", retryAfter(5))
		return
	}
	ruri := c.req.Recipient
	if !p.domains[strings.ToLower(ruri.Host)] {
		// Addressed to the edge's own address: the home nodes know the
		// user by our default domain, not by the edge's IP.
		ruri = *ruri.Clone()
		ruri.Host, ruri.Port = p.cfg.Domains[0], 0
	}
	p.forwardSerial(c, ruri, targets)
}
