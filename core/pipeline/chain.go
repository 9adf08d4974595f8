package pipeline

import (
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/archive"
	"github.com/parley-rtc/parley/core/chain"
	"github.com/parley-rtc/parley/core/router"
	"github.com/parley-rtc/parley/core/rules"
	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/plugins/contract"
)

// The application chain (docs/architecture.md, step 8): the operator's
// ordered applications see each request that User Services passed on.
// Every entry is a chain.App (core/chain): the built-in router
// (core/router, our Routing.am), the built-in archive (core/archive),
// rules applications (core/rules) and plugins (pluginApp, plugins.go);
// routeFrom walks them and applies their verdicts. The router only
// decides where a non-strict request for one of our users goes; the
// proxy core forwards it after the last application, so applications
// placed after the router still see it (archiving, logging rules).
// Strict-routed requests are seen only by applications with
// strictRoute, then go to the protocol stack.

// Built-in application names.
const (
	AppRouter  = router.Name
	AppArchive = archive.AppName
)

// chainApp is an entry of the chain ready to run: its configuration and
// the application that handles it (nil for a built-in this node does
// not know, which does nothing).
type chainApp struct {
	state.App
	app chain.App
	// holds: the application may hold the request (a plugin, out of
	// process): a non-INVITE held a second gets 100 Trying.
	holds bool
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
		switch {
		case a.Kind == state.AppBuiltin && a.Name == AppRouter:
			ca.app = p.router
		case a.Kind == state.AppBuiltin && a.Name == AppArchive:
			ca.app = &archive.App{Archive: p.cfg.Archive, Node: p.cfg.Node, Logger: p.log}
		case a.Kind == state.AppRules:
			set, err := rules.Compile([]byte(a.Rules), rules.Config{})
			if err != nil { // the admin API refuses such rules; a log entry from elsewhere is skipped
				p.log.Error("rules app does not compile; skipped", "app", a.Name, "error", err)
				continue
			}
			ca.app = rules.NewApp(a.Name, set, a.Critical, p.log)
		case a.Kind == state.AppPlugin:
			ca.app, ca.holds = &pluginApp{p: p, name: a.Name}, true
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

// routeFrom walks the chain from index first on (apps is never mutated
// once built: a change builds a new slice): each entry that sees the
// request handles it, and its verdict is applied. The walk ends at the
// first verdict that answers, routes or drops the request; after the
// last entry the request goes to the router's choice or, with none, to
// the protocol stack.
func (p *Pipeline) routeFrom(c *call, apps []chainApp, first int) {
	strict := p.strictRouted(c.req)
	// A plugin that claims the Request-URI sees the request even when a
	// phone number makes it strict-routed, but never one carrying a
	// Route unless it has strictRoute.
	claimant := p.claimant(c.req.Recipient, apps)
	routed := c.req.Route() != nil || hasForeignMaddr(p, c.req.Recipient)
	c.view = chain.Request{Request: contract.Request{
		Req: c.req, Source: c.source, Transport: c.in.Network, Identity: c.identity, Trusted: c.trusted, StrictRouted: strict,
	}, Claimed: claimant != ""}
	var (
		choice chain.Choice
		chosen bool
	)
	for i := first; i < len(apps); i++ {
		e := &apps[i]
		hidden := strict && !e.StrictRoute && (e.Name != claimant || routed)
		own := e.Kind == state.AppPlugin && e.Name == c.linkApp // no loops over the SIP link
		if e.app == nil || !e.Enabled || hidden || own || !e.accepts(c.req) {
			continue
		}
		v, err := p.handle(c, e)
		if err != nil {
			if p.appFailed(c, e, e.Name == claimant, err) != proceed {
				return
			}
			continue
		}
		if v.Chosen {
			choice, chosen = v.Choice, true
		}
		if p.apply(c, e, &v) != proceed {
			return
		}
	}
	if chosen {
		p.forwardChoice(c, choice)
		return
	}
	if claimant != "" && !routed {
		// Claimed addresses are the claimant's: no 403, no static route.
		p.respond(c, 480, "Temporarily Unavailable (application "+claimant+" did not take the request)")
		return
	}
	p.protocolStack(c)
}

// handle hands c to entry e's application. An entry that may hold the
// request (a plugin) gets a 100 Trying sent for a non-INVITE it holds
// past pluginTrying (sipgo sends one for INVITE itself), so the caller's
// transaction stops retransmitting (RFC 4320).
func (p *Pipeline) handle(c *call, e *chainApp) (chain.Verdict, error) {
	if !e.holds || c.req.Method == sip.INVITE {
		return e.app.Handle(p.ctx, &c.view)
	}
	// The 100 Trying is sent under mu, and never once the verdict is
	// in: it must not follow a final response.
	var (
		mu   sync.Mutex
		done bool
	)
	tx, req := c.tx, c.req // the request changes only once done is set
	trying := time.AfterFunc(pluginTrying, func() {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			_ = tx.Respond(siputil.Response(req, 100, "Trying"))
		}
	})
	defer trying.Stop()
	v, err := e.app.Handle(p.ctx, &c.view)
	mu.Lock()
	done = true
	mu.Unlock()
	return v, err
}

// apply carries out entry e's verdict v on c: proceed for Continue (its
// changes made), answered for everything else (answered, forwarded or
// dropped).
func (p *Pipeline) apply(c *call, e *chainApp, v *chain.Verdict) step {
	if v.WantResponse {
		if o, ok := e.app.(chain.Observer); ok {
			ticket := v.Ticket
			c.tx = &observedTx{ServerTransaction: c.tx, final: func(res *sip.Response) { o.Response(ticket, res) }}
		}
	}
	switch v.Action {
	case contract.Continue:
		contract.ApplyChanges(c.req, &v.Verdict)
		return proceed
	case contract.Respond:
		p.respond(c, v.Code, v.Reason, v.Headers...)
	case contract.Redirect:
		hdrs := make([]sip.Header, 0, len(v.Targets)+len(v.Headers))
		for _, t := range v.Targets {
			hdrs = append(hdrs, sip.NewHeader("Contact", "<"+t.String()+">"))
		}
		p.respond(c, v.Code, v.Reason, append(hdrs, v.Headers...)...)
	case contract.Proxy, contract.Fork:
		contract.ApplyChanges(c.req, &v.Verdict)
		if v.NextHop { // a built-in's next hop, forwarded as the protocol stack does
			t := hopTarget(c.req.Recipient, v.Targets[0])
			if p.mayReach(c, t.Dest) == proceed {
				p.forward(c, t)
			}
			break
		}
		if v.Action == contract.Fork && (v.Failover != nil || len(v.Branches) > 0) {
			p.forkPolicy(c, &v.Verdict) // forkpolicy.go
			break
		}
		p.forkTo(c, v.Targets)
	case contract.Drop:
		p.drop(c, e.Kind)
	}
	return answered
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
