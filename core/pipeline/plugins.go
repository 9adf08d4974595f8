package pipeline

import (
	"context"

	"github.com/emiago/sipgo/sip"

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

// HopTarget is where a request for ruri goes when sent to next hop hop
// (a plugin's proxy target or a request a plugin originates).
func HopTarget(ruri, hop sip.Uri) proxy.Target { return hopTarget(ruri, hop) }
