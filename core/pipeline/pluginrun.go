package pipeline

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/plugins/contract"
)

// pluginTrying is how long a plugin may hold a non-INVITE request before
// the caller gets a 100 Trying (sipgo sends one for INVITE itself), so
// its transaction stops retransmitting (RFC 4320).
const pluginTrying = time.Second

// claimant is the first enabled plugin entry that claims u ("" none).
func (p *Pipeline) claimant(u sip.Uri, apps []chainApp) string {
	for i := range apps {
		a := &apps[i]
		if a.Kind != state.AppPlugin || !a.Enabled {
			continue
		}
		if contract.MatchAny(u, a.Claims, p.pluginClaims(a.Name)) {
			return a.Name
		}
	}
	return ""
}

// pluginClaims are the claims the running plugin of entry app made
// (Describe, and once configured), nil without a plugin host.
func (p *Pipeline) pluginClaims(app string) []string {
	if p.cfg.Plugins == nil {
		return nil
	}
	return p.cfg.Plugins.Claims(app)
}

// Claimed reports whether an enabled plugin entry claims aor (user@host,
// as a sip URI): the presence agent serves watchers of such outside
// addresses with what the plugin publishes.
func (p *Pipeline) Claimed(aor string) bool {
	var u sip.Uri
	if err := sip.ParseUri("sip:"+aor, &u); err != nil {
		return false
	}
	return p.claimant(u, p.chain()) != ""
}

// appFailed answers or skips after an application failed (Handle
// returned err): a singleton plugin that does not run here hands the
// request to its lease holder (singletonElsewhere); an application that
// is down (or returned garbage) is skipped unless critical; a full queue
// is 503, a request held past the transaction lifetime 504. claimed
// says the entry claims c's Request-URI.
func (p *Pipeline) appFailed(c *call, app *chainApp, claimed bool, err error) step {
	if errors.Is(err, contract.ErrPluginDown) && app.Singleton && p.cfg.Plugins != nil {
		return p.singletonElsewhere(c, app, claimed, err)
	}
	return p.pluginFailed(c, app, err)
}

// pluginFailed answers or skips after a failure that no lease holder
// can take over.
func (p *Pipeline) pluginFailed(c *call, app *chainApp, err error) step {
	switch {
	case errors.Is(err, contract.ErrPluginBusy):
		p.respond(c, 503, "Service Unavailable (application "+app.Name+" is busy)", retryAfter(1))
		return answered
	case errors.Is(err, contract.ErrPluginTimeout):
		p.respond(c, 504, "Server Time-out (application "+app.Name+" did not answer)")
		return answered
	case errors.Is(err, context.Canceled):
		p.respond(c, 503, "Service Unavailable (stopping)", retryAfter(5))
		return answered
	case app.Critical:
		p.log.Warn("critical plugin failed", "app", app.Name, "error", err)
		p.respond(c, 503, "Service Unavailable (application "+app.Name+" is not running)", retryAfter(5))
		return answered
	}
	p.log.Debug("plugin skipped", "app", app.Name, "error", err)
	return proceed
}

// forkTo forwards c to targets in turn (serial forking): a failure
// (4xx, 5xx) from one target is held back while another remains; a 2xx,
// 3xx or 6xx, a CANCEL from the caller, or the last target's answer goes
// to the caller.
func (p *Pipeline) forkTo(c *call, targets []sip.Uri) {
	rr := proxy.RecordRoutes(c.req.Method)
	ftx := &forkTx{ServerTransaction: c.tx}
	for i, hop := range targets {
		ftx.reset(i < len(targets)-1)
		t := HopTarget(c.req.Recipient, hop)
		p.linkOut(&t)
		err := p.cfg.Proxy.Forward(p.ctx, c.req, ftx, t, rr, c.in)
		p.countForward(c.req, err)
		if !ftx.heldBack() {
			return
		}
	}
}

// observedTx shows the final response to a plugin that asked for it.
type observedTx struct {
	sip.ServerTransaction
	once  sync.Once
	final func(*sip.Response)
}

func (t *observedTx) Respond(res *sip.Response) error {
	if res.StatusCode >= 200 {
		t.once.Do(func() { t.final(res) })
	}
	return t.ServerTransaction.Respond(res)
}

// forkTx holds back a branch's failure while more branches remain.
type forkTx struct {
	sip.ServerTransaction
	mu        sync.Mutex
	more      bool // another target remains
	held      bool // this branch's failure was held back
	cancelled bool
}

func (t *forkTx) reset(more bool) {
	t.mu.Lock()
	t.more, t.held = more, false
	t.mu.Unlock()
}

func (t *forkTx) heldBack() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.held && !t.cancelled
}

func (t *forkTx) Respond(res *sip.Response) error {
	t.mu.Lock()
	hold := t.more && !t.cancelled && res.StatusCode >= 400 && res.StatusCode < 600
	if hold {
		t.held = true
	}
	t.mu.Unlock()
	if hold {
		return nil
	}
	return t.ServerTransaction.Respond(res)
}

func (t *forkTx) OnCancel(f sip.FnTxCancel) bool {
	return t.ServerTransaction.OnCancel(func(r *sip.Request) {
		t.mu.Lock()
		t.cancelled = true
		t.mu.Unlock()
		f(r)
	})
}
