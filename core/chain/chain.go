// Package chain is the one contract of the application chain
// (docs/architecture.md, "Application chain"): every entry - the default
// router (core/router), archiving (core/archive), rules (core/rules) and
// the adapter that hands requests to out-of-process plugins
// (core/pipeline's pluginApp, through plugins/host) - is an App: a name,
// and Handle, which takes the request as the chain has it and returns a
// verdict. The pipeline walks the entries in the operator's order and
// applies each verdict; built-ins are tested as plugins are, request in,
// verdict out.
//
// Request and Verdict are plugins/contract's, which plugins see over the
// wire, with two in-process additions only built-ins use (see Verdict):
// a router's choice of endpoint, which fails over along the user's other
// endpoints, and a next hop forwarded as the protocol stack forwards.
package chain

import (
	"context"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/plugins/contract"
)

// App is an application of the chain.
type App interface {
	// Name is the chain entry's name.
	Name() string
	// Handle decides what happens to r. An error means the application
	// failed (a plugin down, busy or timed out: contract.Err*): the
	// chain skips it, or answers for it when the entry is critical.
	Handle(ctx context.Context, r *Request) (Verdict, error)
}

// Observer is an App that wants the final response to a request whose
// verdict set WantResponse (plugins do; Ticket names the request).
type Observer interface {
	Response(ticket uint64, res *sip.Response)
}

// Request is what an application sees: the request as it stands at the
// application's place in the chain and where it came from.
type Request struct {
	contract.Request
	// Claimed: a plugin entry of the chain claims the Request-URI, so it
	// is that entry's to route (the default router leaves it alone).
	Claimed bool
}

// Verdict is what an application decided: the contract's verdict, plus
// what only a built-in says.
type Verdict struct {
	contract.Verdict
	// Chosen, with Action Continue: Choice is where the request goes
	// once the chain is done, unless a later entry answers or routes it
	// (the default router: the user's best endpoint, failing over to the
	// next ones; core/router.Forward).
	Chosen bool
	Choice Choice
	// NextHop, with Action Proxy: Targets[0] is a next hop the protocol
	// stack forwards to as it does a static route's: the IP destination
	// rule applies, and redirect recursion and topology hiding as
	// configured (a rules application's route action). Without it a
	// Proxy or Fork is a plugin's serial fork, whose loopback hops leave
	// through the SIP link.
	NextHop bool
}

// Choice is a router's decision: the target, and the binding it stands
// for (the one failover starts from).
type Choice struct {
	Target   proxy.Target
	Endpoint Endpoint
}

// Endpoint is the binding a request was routed to.
type Endpoint struct {
	AOR, Key, Home string
}

// Continue is the verdict that passes the request on unchanged.
func Continue() Verdict { return Verdict{Verdict: contract.Verdict{Action: contract.Continue}} }

// Respond is the verdict that answers code reason with hdrs.
func Respond(code int, reason string, hdrs ...sip.Header) Verdict {
	return Verdict{Verdict: contract.Verdict{Action: contract.Respond, Code: code, Reason: reason, Headers: hdrs}}
}
