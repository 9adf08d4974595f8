package pipeline

import (
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/plugins/contract"
)

// forkPolicy forwards c to a Fork verdict's targets in turn, each copy
// with its branch's changes, under the failover policy the verdict
// hands over (the PSTN adapter's trunks: which codes go to the next
// gateway, the fast-failover timer, the early-media rule), through
// proxy.ForwardSerial, which answers the caller by Upstream's rule (a
// 503 never passed on). Targets are next hops (gateways) reached
// through the ordinary listeners.
func (p *Pipeline) forkPolicy(c *call, v *contract.Verdict) {
	branches := make([]proxy.Branch, len(v.Targets))
	for i, hop := range v.Targets {
		req, pol := c.req, v.Failover
		if i < len(v.Branches) {
			b := &v.Branches[i]
			req = c.req.Clone()
			contract.ApplyBranch(req, b)
			if b.Failover != nil {
				pol = b.Failover
			}
		}
		branches[i] = proxy.Branch{Req: req, Target: HopTarget(req.Recipient, hop), Policy: policyOf(pol)}
	}
	attempts, err := p.cfg.Proxy.ForwardSerial(p.ctx, c.req, c.tx, branches, proxy.RecordRoutes(c.req.Method), c.in)
	p.countForward(c.req, err)
	for i, a := range attempts {
		p.log.Debug("fork branch failed", "call_id", callIDOf(c), "branch", i, "target", a.Target, "code", a.Code,
			"fast_failover", a.TimedOut, "early_media", a.EarlyMedia, "elapsed", a.Elapsed)
	}
}

// anyFailure is the policy of a fork without one: every 4xx and 5xx
// goes to the next target (the plain Fork's rule).
var anyFailure = func() []int {
	out := make([]int, 0, 200)
	for c := 400; c < 600; c++ {
		out = append(out, c)
	}
	return out
}()

func policyOf(f *contract.Failover) proxy.Policy {
	if f == nil {
		return proxy.Policy{Next: anyFailure}
	}
	return proxy.Policy{Next: f.Next, Timer: f.Timer, OnEarlyMedia: f.OnEarlyMedia}
}

func callIDOf(c *call) string {
	if h := c.req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}
