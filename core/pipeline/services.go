package pipeline

import (
	"errors"
	"strconv"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/pipeline/udpfast"
	"github.com/parley-rtc/parley/core/presence"
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/registrar"
	"github.com/parley-rtc/parley/core/router"
	"github.com/parley-rtc/parley/core/siputil"
)

// allow is what we answer in Allow.
const allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, REGISTER, INFO, UPDATE, PRACK, REFER, NOTIFY, SUBSCRIBE, PUBLISH"

// userServices handles what stops at User Services (REGISTER, OPTIONS to
// the server) and routes the rest.
func (p *Pipeline) userServices(c *call) {
	req := c.req
	switch p.cfg.Role {
	case state.RoleEdge:
		p.edgeServices(c)
		return
	}
	switch {
	case req.Method == sip.REGISTER:
		p.register(c)
		return
	case req.Method == sip.OPTIONS && req.Recipient.User == "" && p.isOurDomain(req.Recipient.Host, req.Recipient.Port):
		p.respond(c, 200, "OK", sip.NewHeader("Allow", allow), sip.NewHeader("Accept", "application/sdp, text/plain"))
		return
	case presence.Handles(req):
		code := p.cfg.Presence.Handle(p.ctx, presence.Request{Req: req, Tx: c.tx, Identity: c.identity, In: c.in, Source: c.source})
		p.cfg.Metrics.Response(code)
		return
	case req.Method == sip.PUBLISH:
		// RFC 3903: an event package we do not serve.
		p.respond(c, 489, "Bad Event", sip.NewHeader("Allow-Events", "presence, presence.winfo"))
		return
	}
	if !c.trusted && c.identity != "" {
		if from := siputil.AOR(req.From().Address); from != c.identity {
			p.respond(c, 403, "Forbidden (From does not match the authenticated user)")
			return
		}
	}
	p.route(c)
}

// register hands a REGISTER for one of our domains to the registrar.
func (p *Pipeline) register(c *call) {
	req := c.req
	if !p.isOurDomain(req.Recipient.Host, req.Recipient.Port) {
		p.respond(c, 403, "Forbidden (not a domain of this server)")
		return
	}
	to := req.To().Address
	if !p.isOurDomain(to.Host, to.Port) || to.User == "" {
		p.respond(c, 403, "Forbidden (To is not a user of this server)")
		return
	}
	if p.cfg.Role == state.RoleDirector {
		p.redirectRegister(c, p.aorFor(to))
		return
	}
	in := registrar.Request{
		Req:      req,
		AOR:      p.aorFor(to),
		Identity: c.identity,
		Flow:     registrar.Flow{Transport: c.in.Network, Source: c.source, Local: c.in.Bound, Trusted: c.trusted},
	}
	tx, direct := c.tx.(*udpfast.DirectTx)
	if !direct {
		// sipgo ends its transaction when the handler returns: wait.
		p.sendRegister(c, p.cfg.Registrar.Handle(p.ctx, in))
		return
	}
	// The direct path's transaction lives until it answers: the
	// registrar answers once the write commits, from the write's
	// completion, and this worker moves on (held: serve and ServeDirect
	// leave the transaction and the connection's slot to respond).
	c.held = true
	p.cfg.Registrar.HandleAsync(p.ctx, in, func(res *sip.Response) {
		p.sendRegister(c, res)
		tx.Terminate()
		p.settle(c)
	})
}

func (p *Pipeline) sendRegister(c *call, res *sip.Response) {
	p.cfg.Metrics.Response(res.StatusCode)
	if err := c.tx.Respond(res); err != nil {
		p.log.Debug("register response not sent", "error", err)
	}
}

// forwardChoice forwards c to the router's choice and, through the
// router, on to the user's next-best bindings while the one tried
// cannot be reached (an initial INVITE forks to all of them at once:
// fork.go); the caller gets 408 or 480 when none could be (a
// MESSAGE is stored for the user instead: 202).
func (p *Pipeline) forwardChoice(c *call, ch router.Choice) {
	exhausted, err := p.router.Route(c.req, ch, func(t proxy.Target, ep router.Endpoint) error {
		if p.router.Remote(ep) {
			c.viaHome = ep.Home
		}
		return p.forward(c, t)
	}, func(ts []proxy.Target, eps []router.Endpoint) proxy.ForkResult { return p.fork(c, ts, eps) })
	if exhausted {
		code, reason := p.router.Unreachable(p.ctx, c.req, ch.Endpoint.AOR, err)
		p.respond(c, code, reason)
	}
}

// forward hands a request to the proxy core, record-routing what starts
// a dialog. With RecurseRedirects, a 3xx with a usable Contact is not
// relayed: the request is routed again to its best Contact (highest q),
// through the whole router, so a redirect cannot bypass routing rules.
func (p *Pipeline) forward(c *call, t proxy.Target) error {
	req := c.req
	rr := proxy.RecordRoutes(req.Method)
	var next *sip.Uri
	if p.cfg.RecurseRedirects && c.redirects < maxRedirects {
		t.OnRedirect = func(res *sip.Response) bool {
			next = bestContact(res)
			return next != nil
		}
	}
	p.hide(c, &t)
	err := p.cfg.Proxy.Forward(p.ctx, req, c.tx, t, rr, c.in)
	p.countForward(req, err)
	if c.viaHome != "" && errors.Is(err, proxy.ErrUnreachable) {
		// Its link refused us: stop choosing its bindings until a probe
		// reaches it again.
		p.cfg.Location.MarkHomeDown(c.viaHome)
	}
	c.viaHome = ""
	if next != nil {
		c.redirects++
		req.Recipient = *next
		p.route(c)
	}
	return err
}

// maxRedirects bounds how many 3xx one request follows.
const maxRedirects = 3

// bestContact is the Contact of a 3xx with the highest q (first on ties).
func bestContact(res *sip.Response) *sip.Uri {
	var best *sip.Uri
	bestQ := -1.0
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok || c.Address.Wildcard || c.Address.Host == "" {
			continue
		}
		q := 1.0
		if v, ok := c.Params.Get("q"); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q > bestQ {
			u := *c.Address.Clone()
			best, bestQ = &u, q
		}
	}
	return best
}

func (p *Pipeline) countForward(req *sip.Request, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
		p.log.Debug("forward failed", "method", req.Method, "error", err)
	}
	p.cfg.Metrics.Forwarded.WithLabelValues(string(req.Method), outcome).Inc()
}
