package pipeline

import (
	"context"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/chain"
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/plugins/contract"
)

// Plugin applications (kind "plugin") run outside the node; the pipeline
// hands them requests through a PluginHost (plugins/host implements it)
// and applies the verdict they return. What they see and answer is
// plugins/contract.

// PluginHost runs the plugin entries of the chain.
type PluginHost interface {
	// Handle hands req to the plugin behind chain entry app and waits for
	// its verdict. It returns contract.ErrPluginDown, ErrPluginBusy,
	// ErrPluginTimeout or another error for a verdict it could not use.
	Handle(ctx context.Context, app string, req *contract.Request) (contract.Verdict, error)
	// Response gives the plugin the final response to a request whose
	// verdict asked for it (contract.Verdict.WantResponse).
	Response(app string, ticket uint64, res *sip.Response)
	// Claims returns the address patterns the running plugin claimed
	// (Describe, and once configured), besides those of its chain entry.
	Claims(app string) []string
	// LinkApp returns the chain entry whose running plugin holds a SIP
	// link credential (link.go).
	LinkApp(token string) (app string, ok bool)
}

// pluginApp is the chain.App of a plugin entry: it hands the request to
// the PluginHost, which runs the plugin out of process, and returns its
// verdict as it came (plugins never set the built-in fields).
type pluginApp struct {
	p    *Pipeline // its host is p.cfg.Plugins (set after New)
	name string
}

var (
	_ chain.App      = (*pluginApp)(nil)
	_ chain.Observer = (*pluginApp)(nil)
)

// Name is the chain entry's name (chain.App).
func (a *pluginApp) Name() string { return a.name }

// Handle asks the plugin for its verdict (chain.App); with no host the
// plugin counts as down.
func (a *pluginApp) Handle(ctx context.Context, r *chain.Request) (chain.Verdict, error) {
	h := a.p.cfg.Plugins
	if h == nil {
		return chain.Verdict{}, contract.ErrPluginDown
	}
	v, err := h.Handle(ctx, a.name, &r.Request)
	return chain.Verdict{Verdict: v}, err
}

// Response gives the plugin the final response it asked for
// (chain.Observer).
func (a *pluginApp) Response(ticket uint64, res *sip.Response) {
	a.p.cfg.Plugins.Response(a.name, ticket, res)
}

// HopTarget is where a request for ruri goes when sent to next hop hop
// (a plugin's proxy target or a request a plugin originates).
func HopTarget(ruri, hop sip.Uri) proxy.Target { return hopTarget(ruri, hop) }
