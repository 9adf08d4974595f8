package pipeline

import (
	"errors"

	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/router"
)

// fork sends c's initial INVITE to every target at once (the router's
// Branches; the proxy's Fork, RFC 3261 16.7), record-routed and, on an
// edge, topology-hidden like a single forward. A home node whose link
// refused a branch is marked down, as after a single forward. Redirects
// are not recursed here: a 3xx is one branch's answer among the others.
func (p *Pipeline) fork(c *call, ts []proxy.Target, eps []router.Endpoint) proxy.ForkResult {
	for i := range ts {
		p.hide(c, &ts[i])
	}
	res := p.cfg.Proxy.Fork(p.ctx, c.req, c.tx, ts, proxy.RecordRoutes(c.req.Method), c.in)
	for i, err := range res.Errs {
		if err != nil && p.router.Remote(eps[i]) && errors.Is(err, proxy.ErrUnreachable) {
			p.cfg.Location.MarkHomeDown(eps[i].Home)
		}
	}
	var err error
	if !res.Answered {
		err = res.Err()
	}
	p.countForward(c.req, err)
	return res
}
