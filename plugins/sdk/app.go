package sdk

import (
	"context"

	"github.com/emiago/sipgo/sip"
)

// App is a plugin application.
type App struct {
	Name    string
	Version string
	// Claims are address patterns whose requests the node routes to this
	// plugin: "*@xmpp.example.net", "tel:+1*", "sip:+1*@*".
	Claims []string
	// Methods limits the requests handed over (empty: all the chain
	// entry accepts); others continue without a round trip.
	Methods []string
	// WantsResponses: OnResponse gets the final response of every request
	// the plugin continued, proxied or forked.
	WantsResponses bool
	// Singleton: one instance in the cluster (an outside connection).
	Singleton bool

	// Configure runs once per start, before the first request. Host stays
	// valid until the plugin stops. Optional.
	Configure func(ctx context.Context, cfg Config, host Host) error
	// Handle decides what happens to one request. It is called
	// concurrently; ctx ends when the node gives up on the request (the
	// transaction lifetime). Required.
	Handle func(ctx context.Context, req *Request) Verdict
	// OnResponse receives final responses when WantsResponses. Optional.
	OnResponse func(ctx context.Context, res *Response)
	// Health reports trouble with outside connections. Optional.
	Health func(ctx context.Context) error
}

// Config is what the node tells a plugin at start.
type Config struct {
	App      string // the chain entry's name
	Node     string // the node running it
	Domains  []string
	Settings map[string]string // the chain entry's settings
}

// Request is one request the chain hands to the plugin. Changing Request
// changes nothing in the node: say what to change in the Verdict.
type Request struct {
	*sip.Request
	ID           uint64
	Source       string // host:port it came from
	Transport    string
	Identity     string // authenticated AOR, if any
	Trusted      bool   // from a server or trusted connection
	StrictRouted bool
}

// Response is the final response to a request the plugin touched.
type Response struct {
	*sip.Response
	RequestID uint64
}
