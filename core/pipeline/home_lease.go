package pipeline

import (
	"errors"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/router"
)

// Singleton plugins across the cluster (docs/architecture.md, "Plugins"):
// a singleton runs only on the node that holds its lease. A request for
// an address it claims that reaches another node goes to the holder's
// cluster link, as a request for a binding homed there does, with
//
//	Route: <sip:HOST:PORT;transport=tcp;lr;pp=B64(app NUL identity);pt=TOKEN>
//
// (TOKEN as for home routing, core/router/home.go). The holder consumes the Route
// and runs the chain from that entry on: the entries before it ran on
// the first node, and the identity the first node authenticated is the
// one the plugin sees. Requests it does not claim skip the entry on
// other nodes while a live holder exists. With no live holder (no lease,
// a lapsed one, or a holder the link cannot reach) the entry counts as
// down: skipped, so the claimed address gets 480, or, critical, 503.

// pluginParam is the Route URI parameter naming a singleton entry on its
// lease holder.
const pluginParam = "pp"

// singletonElsewhere handles a request for singleton entry app, which
// does not run here (err is contract.ErrPluginDown): one for an address it claims
// goes to the lease holder; another is skipped while a live holder
// exists (the plugin runs, just not here). With no live holder it is
// down as any plugin is: skipped, or 503 when critical. It returns
// proceed when the chain goes on to the next entry.
func (p *Pipeline) singletonElsewhere(c *call, app *chainApp, claimed bool, err error) step {
	holder, ok := p.leaseHolder(app.Name)
	switch {
	case !ok || c.atHolder: // none, or it sent c here and no longer runs it
		return p.pluginFailed(c, app, err)
	case !claimed:
		return proceed
	}
	if s := p.toLeaseHolder(c, app, holder); s != proceed {
		return s
	}
	return p.pluginFailed(c, app, err) // the holder could not be reached
}

// leaseHolder is the other node holding singleton name's lease, if the
// lease is current and the node reachable.
func (p *Pipeline) leaseHolder(name string) (string, bool) {
	l, ok := p.cfg.State.PluginLeaseOf(name)
	if !ok || l.Node == p.cfg.Node || time.Now().UnixNano() >= l.Until || p.cfg.Location.HomeDown(l.Node) {
		return "", false
	}
	return l.Node, true
}

// toLeaseHolder forwards c, for an address singleton app claims, to
// holder, the node holding app's lease: forwarded, or answered (503)
// when the holder has no such entry running. It returns proceed, having
// sent nothing to the caller, when the holder cannot be reached: the
// entry then counts as down here.
func (p *Pipeline) toLeaseHolder(c *call, app *chainApp, holder string) step {
	t, ok := p.router.LinkTarget(c.req, holder, pluginParam, encodePluginMark(app.Name, c.identity))
	if !ok {
		return proceed
	}
	// Failover: an unreachable holder (or its 503) is not relayed, so the
	// entry can count as down here instead.
	t.Failover = true
	rr := proxy.RecordRoutes(c.req.Method)
	err := p.cfg.Proxy.Forward(p.ctx, c.req, c.tx, t, rr, c.in)
	p.countForward(c.req, err)
	switch {
	case errors.Is(err, proxy.ErrUnreachable), errors.Is(err, proxy.ErrTimeout):
		p.log.Warn("singleton plugin's lease holder unreachable", "app", app.Name, "holder", holder, "error", err)
		p.cfg.Location.MarkHomeDown(holder)
		return proceed
	case errors.Is(err, proxy.ErrUnavailable):
		p.respond(c, 503, "Service Unavailable (application "+app.Name+" is not available)", retryAfter(5))
		return answered
	}
	return forwarded
}

// deliverPlugin runs the chain from the singleton entry a member
// forwarded c to this node for (c.routes.plugin).
func (p *Pipeline) deliverPlugin(c *call) {
	if p.checkRouteToken(c) != proceed {
		return
	}
	name, identity, ok := decodePluginMark(c.routes.plugin)
	if !ok {
		p.respond(c, 400, "Bad Request (cluster route)")
		return
	}
	apps := p.chain()
	for i := range apps {
		if apps[i].Name == name && apps[i].Kind == state.AppPlugin {
			c.identity, c.atHolder = identity, true
			p.routeFrom(c, apps, i)
			return
		}
	}
	p.respond(c, 480, "Temporarily Unavailable (no application "+name+" here)")
}

// encodePluginMark is the pp value naming entry app and the identity the
// first node authenticated ("" for none).
func encodePluginMark(app, identity string) string { return router.EncodeMark(app, identity) }

// decodePluginMark reverses encodePluginMark.
func decodePluginMark(mark string) (app, identity string, ok bool) { return router.DecodeMark(mark) }
