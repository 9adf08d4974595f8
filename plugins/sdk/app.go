package sdk

import (
	"context"
	"time"

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
	// Inline says Handle returns quickly and never blocks: no network
	// calls, no host services, no waiting (a filter over the message,
	// a decision from settings). The SDK then runs Handle on the
	// goroutine that read the request, which spares a thread wake-up on
	// every hop (about half of it on a small machine); when more
	// requests are already waiting, they still run concurrently. A
	// handler that blocks while Inline holds up the requests behind it,
	// and the cancels for them, until it returns. Leave it false for
	// anything that talks to the outside (a gateway).
	Inline bool

	// Configure runs once per start, before the first request. Host stays
	// valid until the plugin stops. Optional.
	Configure func(ctx context.Context, cfg Config, host Host) error
	// Claim returns claims known only once the plugin is configured (an
	// address taken from a setting or the node's domains); the node adds
	// them to Claims. It is called right after Configure. Optional.
	Claim func(cfg Config) []string
	// Handle decides what happens to one request. It is called
	// concurrently; ctx ends when the node gives up on the request (the
	// transaction lifetime). Required.
	Handle func(ctx context.Context, req *Request) Verdict
	// OnResponse receives final responses when WantsResponses. Optional.
	OnResponse func(ctx context.Context, res *Response)
	// Health reports trouble with outside connections. Optional.
	Health func(ctx context.Context) error
	// Details is state for operators, asked with every Health (every
	// 10 s) and shown by parleyctl app status: the outside link's
	// connected, server, since, reconnects; active calls. At most
	// MaxDetails entries, keys and values cut to MaxDetailKey and
	// MaxDetailValue bytes. Return quickly. Optional.
	Details func(ctx context.Context) map[string]string
	// Metrics are the plugin's own Prometheus metrics, gathered when the
	// node's /metrics is scraped and served there with the label
	// plugin="<chain entry>": a *prometheus.Registry the plugin
	// registers its counters, gauges and histograms on. Names start
	// with parley_ and a namespace of the plugin's own (parley_xmpp_...;
	// contract.CheckMetricName). Optional.
	Metrics Gatherer
	// OnWatchers, when set, is told who subscribes to the presence of an
	// outside address the plugin claims: the whole list of aor's
	// watchers each time it changes (empty: nobody any more), and every
	// watched address's list once the node connects. The node's presence
	// agent serves those subscriptions with what the plugin publishes;
	// this lets a gateway mirror them (XMPP presence subscriptions).
	// Calls come in order on the message stream: return quickly.
	// Optional.
	OnWatchers func(ctx context.Context, aor string, watchers []Watcher)
}

// Watcher is one presence subscription to an address the plugin claims.
type Watcher struct {
	ID      string // the subscription's dialog id
	Watcher string // the watcher's AOR (user@domain)
	Status  string // active or pending
	Expires time.Time
}

// Config is what the node tells a plugin at start.
type Config struct {
	App      string // the chain entry's name
	Node     string // the node running it
	Domains  []string
	Settings map[string]string // the chain entry's settings
	// Link is the node's SIP link for plugins that are user agents
	// (empty Address: the node offers none).
	Link Link
}

// LinkHeader carries a plugin's link credential (Link.Token) in every
// request its own SIP stack sends to the node's link address. The node
// takes such a request as coming from a trusted server, asserting only
// the identities the plugin claims, and removes the header before the
// request goes on.
const LinkHeader = "X-Parley-Link"

// Link is the node's SIP link for a plugin that runs its own SIP stack
// (a back-to-back user agent, a media relay): a loopback address of the
// node, reached over UDP or TCP, only for plugins, and the plugin
// instance's credential.
type Link struct {
	// Address is the node's link listener, host:port (UDP and TCP).
	Address string
	// Token is this instance's credential, sent in LinkHeader. It is a
	// secret: never log it.
	Token string
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
