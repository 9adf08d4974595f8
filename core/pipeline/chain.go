package pipeline

import (
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/archive"
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/router"
	"github.com/parley-rtc/parley/core/rules"
	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/core/staticroute"
	"github.com/parley-rtc/parley/plugins/contract"
)

// The application chain (docs/architecture.md, step 7): the operator's
// ordered applications see each request that User Services passed on.
// The built-in router (our Routing.am) only decides where a non-strict
// request for one of our users goes; the proxy core forwards it after the
// last application, so applications placed after the router still see it
// (archiving, logging rules). Strict-routed requests are seen only by
// applications with strictRoute, then go to the protocol stack.

// Built-in application names.
const (
	AppRouter  = "router"
	AppArchive = "archive"
)

// chainApp is an application ready to run.
type chainApp struct {
	state.App
	rules *rules.Set
}

// chainCache holds the compiled chain until the state changes it.
type chainCache struct {
	mu   sync.Mutex
	apps []chainApp
	ok   bool
}

// chain returns the compiled chain.
func (p *Pipeline) chain() []chainApp {
	p.chainc.mu.Lock()
	defer p.chainc.mu.Unlock()
	if p.chainc.ok {
		return p.chainc.apps
	}
	apps := p.cfg.State.Apps()
	if len(apps) == 0 {
		apps = state.DefaultChain
	}
	out := make([]chainApp, 0, len(apps))
	for _, a := range apps {
		ca := chainApp{App: a}
		if a.Kind == state.AppRules {
			set, err := rules.Compile([]byte(a.Rules), rules.Config{})
			if err != nil { // the admin API refuses such rules; a log entry from elsewhere is skipped
				p.log.Error("rules app does not compile; skipped", "app", a.Name, "error", err)
				continue
			}
			ca.rules = set
		}
		out = append(out, ca)
	}
	p.chainc.apps, p.chainc.ok = out, true
	return out
}

// invalidateChain makes the next request recompile the chain.
func (p *Pipeline) invalidateChain(ch []state.Change) {
	for _, c := range ch {
		if c.Kind == state.AppsChanged {
			p.chainc.mu.Lock()
			p.chainc.ok = false
			p.chainc.mu.Unlock()
			return
		}
	}
}

// accepts applies an app's method and content-type filter.
func (a *chainApp) accepts(req *sip.Request) bool {
	if len(a.Methods) > 0 && !containsFold(a.Methods, string(req.Method)) {
		return false
	}
	if len(a.ContentTypes) > 0 {
		ct := ""
		if h := req.ContentType(); h != nil {
			ct = strings.TrimSpace(strings.SplitN(h.Value(), ";", 2)[0])
		}
		return containsFold(a.ContentTypes, ct)
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// strictRouted: a Route left after ours, a maddr that is not us, or a
// phone number (the seed's "fixed routing information").
func (p *Pipeline) strictRouted(req *sip.Request) bool {
	return req.Route() != nil || hasForeignMaddr(p, req.Recipient) || contract.IsPhone(req.Recipient)
}

// route runs the chain, then forwards to the router's target or hands
// the request to the protocol stack.
func (p *Pipeline) route(c *call) {
	p.routeFrom(c, p.chain(), 0)
}

// routeFrom runs the chain apps from index first on (apps is never
// mutated once built: a change builds a new slice).
func (p *Pipeline) routeFrom(c *call, apps []chainApp, first int) {
	strict := p.strictRouted(c.req)
	var target *router.Choice
	// A plugin that claims the Request-URI sees the request even when a
	// phone number makes it strict-routed, but never one carrying a
	// Route unless it has strictRoute.
	claimant := p.claimant(c.req.Recipient, apps)
	routed := c.req.Route() != nil || hasForeignMaddr(p, c.req.Recipient)
	for i := first; i < len(apps); i++ {
		app := &apps[i]
		hidden := strict && !app.StrictRoute && (app.Name != claimant || routed)
		own := app.Kind == state.AppPlugin && app.Name == c.linkApp // no loops over the SIP link
		if !app.Enabled || hidden || own || !app.accepts(c.req) {
			continue
		}
		switch {
		case app.Kind == state.AppBuiltin && app.Name == AppRouter:
			if strict || claimant != "" || !p.isOurDomain(c.req.Recipient.Host, c.req.Recipient.Port) {
				continue // Routing.am leaves fixed routes, claimed addresses and other domains alone
			}
			t, ok := p.defaultTarget(c)
			if !ok {
				return
			}
			target = &t
		case app.Kind == state.AppBuiltin && app.Name == AppArchive:
			p.archiveIM(c)
		case app.Kind == state.AppRules:
			if p.runRules(c, app) {
				return
			}
		case app.Kind == state.AppPlugin:
			if p.runPlugin(c, app, strict, app.Name == claimant) {
				return
			}
		}
	}
	if target != nil {
		p.forwardChoice(c, *target)
		return
	}
	if claimant != "" && !routed {
		// Claimed addresses are the claimant's: no 403, no static route.
		p.respond(c, 480, "Temporarily Unavailable (application "+claimant+" did not take the request)")
		return
	}
	p.protocolStack(c)
}

// protocolStack forwards what no application routed (the seed's "SIP
// protocol stack").
func (p *Pipeline) protocolStack(c *call) {
	req := c.req
	u := req.Recipient
	switch {
	case req.Route() != nil, hasForeignMaddr(p, u):
		p.forwardStrict(c)
	case contract.IsPhone(u):
		p.routePhone(c)
	case !p.isOurDomain(u.Host, u.Port):
		p.routeForeign(c)
	default: // one of ours, but the operator took the router out of the chain
		p.respond(c, 480, "Temporarily Unavailable (no application routed the request)")
	}
}

// runRules applies a rules app; true means it answered or routed c.
func (p *Pipeline) runRules(c *call, app *chainApp) bool {
	res, err := app.rules.Evaluate(messageOf(c, p.strictRouted(c.req)))
	if err != nil {
		p.log.Warn("rule failed", "app", app.Name, "error", err)
		if app.Critical {
			p.respond(c, 503, "Service Unavailable", retryAfter(5))
			return true
		}
	}
	for _, a := range res.Actions {
		switch a.Kind {
		case "respond":
			p.respond(c, a.Code, a.Reason)
			return true
		case "redirect":
			p.respond(c, 302, "Moved Temporarily", sip.NewHeader("Contact", "<"+a.Target+">"))
			return true
		case "route":
			var hop sip.Uri
			if err := sip.ParseUri(a.Target, &hop); err != nil {
				p.respond(c, 500, "Server Internal Error (bad rule target)")
				return true
			}
			t := proxy.Target{URI: c.req.Recipient, Dest: staticroute.Dest(hop), Transport: netOf(hop), Server: true}
			if p.mayReach(c, t.Dest) {
				p.forward(c, t)
			}
			return true
		case "add-header":
			c.req.AppendHeader(sip.NewHeader(a.Header, a.Value))
		case "remove-header":
			for c.req.RemoveHeader(a.Header) {
			}
		case "log":
			p.log.Info("rule", "app", app.Name, "message", a.Message, "method", c.req.Method, "from", siputil.AOR(c.req.From().Address), "ruri", c.req.Recipient.String())
		}
	}
	return false
}

// messageOf is the view of c a rule sees.
func messageOf(c *call, strict bool) *rules.Message {
	req := c.req
	m := &rules.Message{
		Method: string(req.Method), RURI: req.Recipient.String(),
		From: req.From().Address.String(), To: req.To().Address.String(),
		FromUser: req.From().Address.User, FromHost: req.From().Address.Host,
		ToUser: req.To().Address.User, ToHost: req.To().Address.Host,
		Body: string(req.Body()), Source: c.source, Transport: c.in.Network,
		Trusted: c.trusted, StrictRouted: strict, Headers: make(map[string][]string),
	}
	if ct := req.ContentType(); ct != nil {
		m.ContentType = ct.Value()
	}
	for _, h := range req.Headers() {
		k := strings.ToLower(h.Name())
		m.Headers[k] = append(m.Headers[k], h.Value())
	}
	return m
}

// archiveIM records an instant message for the archiving application.
func (p *Pipeline) archiveIM(c *call) {
	if p.cfg.Archive == nil || c.req.Method != sip.MESSAGE {
		return
	}
	e := archive.Entry{
		Time: time.Now(), Node: p.cfg.Node, CallID: string(*c.req.CallID()), Method: string(c.req.Method),
		From: siputil.AOR(c.req.From().Address), To: siputil.AOR(c.req.To().Address), Body: string(c.req.Body()),
	}
	if ct := c.req.ContentType(); ct != nil {
		e.ContentType = ct.Value()
	}
	if err := p.cfg.Archive.Record(e); err != nil {
		p.log.Warn("message not archived", "error", err)
	}
}
