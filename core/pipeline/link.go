package pipeline

import (
	"net"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/core/transport"
	"github.com/parley-rtc/parley/plugins/contract"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// The SIP link (docs/architecture.md, "The SIP link"): a plugin that
// runs its own SIP stack (a back-to-back user agent, a media relay)
// sends its requests to the node's link listener, each with its start's
// credential in sdk.LinkHeader. Such a request is taken as from a
// trusted server (no challenge, no per-connection throttle, but a queue
// bound per plugin), asserts only identities the plugin claims, and runs
// the rest of the chain without the plugin's own entry (no loops). A
// verdict that proxies to a loopback address leaves through the link
// listener, record-routed on both sides, so the whole dialog flows
// between the caller and the plugin's user agent through the node.

// linkQueue bounds the requests one plugin may have in flight over the
// link; the next gets 503 and the node's other traffic is untouched.
const linkQueue = 512

// loopbackSource reports whether a request came from a loopback address.
// A request with a link credential from there is judged as the link's
// even when it seems to have arrived on another listener: over TCP,
// sipgo's shared connection pool can hand the server transaction a
// connection that names another of our listeners (seen with the node
// sending into its own link, under load), and the credential, not the
// listener, is what proves a plugin sent it.
func loopbackSource(source string) bool {
	host, _, err := net.SplitHostPort(source)
	return err == nil && loopbackHost(host)
}

// loopbackHost reports whether host is a loopback IP address.
func loopbackHost(host string) bool {
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// stripLink removes every link credential from req and returns the
// first: a credential never travels past the node, whichever listener
// it arrived on.
func stripLink(req *sip.Request) string {
	h := req.GetHeader(sdk.LinkHeader)
	if h == nil {
		return ""
	}
	tok := strings.TrimSpace(h.Value())
	contract.RemoveHeaders(req, sdk.LinkHeader)
	return tok
}

// admitLink checks a request that arrived on the link listener: a
// running plugin's credential, its queue, and the identity it asserts.
func (p *Pipeline) admitLink(c *call, token string) step {
	if c.in.Trust != transport.Link && (token == "" || !loopbackSource(c.source)) {
		return proceed
	}
	req := c.req
	c.trusted = true
	if req.IsAck() {
		return proceed // no answer to send: it follows its route or dies
	}
	app, ok := "", false
	if p.cfg.Plugins != nil {
		app, ok = p.cfg.Plugins.LinkApp(token)
	}
	if !ok {
		p.cfg.Metrics.Dropped.WithLabelValues("link_credential").Inc()
		p.respond(c, 403, "Forbidden (no valid plugin link credential)")
		return answered
	}
	c.linkApp = app
	if !p.linkLimit.acquire(app) {
		p.cfg.Metrics.Dropped.WithLabelValues("link_queue").Inc()
		p.respond(c, 503, "Service Unavailable (plugin "+app+" has too many requests in flight)", retryAfter(1))
		return answered
	}
	c.limitConn, c.limiter = app, p.linkLimit
	if req.IsCancel() {
		return proceed
	}
	id := assertedIdentity(req)
	if id == nil || !p.claims(app, *id) {
		p.cfg.Metrics.Dropped.WithLabelValues("link_identity").Inc()
		p.respond(c, 403, "Forbidden (identity not claimed by plugin "+app+")")
		return answered
	}
	c.identity = siputil.AOR(*id)
	return proceed
}

// assertedIdentity is the identity a request asserts: its first
// P-Asserted-Identity, else its From.
func assertedIdentity(req *sip.Request) *sip.Uri {
	if h := req.GetHeader("P-Asserted-Identity"); h != nil {
		var u sip.Uri
		v := strings.TrimSpace(h.Value())
		if i := strings.IndexByte(v, '<'); i >= 0 {
			if j := strings.IndexByte(v[i:], '>'); j > 0 {
				v = v[i+1 : i+j]
			}
		}
		if err := sip.ParseUri(v, &u); err == nil {
			return &u
		}
		return nil
	}
	if f := req.From(); f != nil {
		return &f.Address
	}
	return nil
}

// claims reports whether chain entry app (its entry's claims, or those
// its running plugin made) claims u.
func (p *Pipeline) claims(app string, u sip.Uri) bool {
	for _, a := range p.chain() {
		if a.Name == app && contract.MatchAny(u, a.Claims) {
			return true
		}
	}
	return contract.MatchAny(u, p.pluginClaims(app))
}

// linkOut sets t to leave through the link listener when its next hop is
// a loopback address: a plugin's own user agent. The proxy then
// record-routes the link on the plugin's side and the caller's listener
// on the other, so the plugin sends its in-dialog requests to the link.
func (p *Pipeline) linkOut(t *proxy.Target) {
	host, _, err := net.SplitHostPort(t.Dest)
	if err != nil {
		host = t.URI.Host
	}
	if !loopbackHost(host) {
		return
	}
	network := t.Transport
	if network == "" {
		network = "UDP"
	}
	if l := p.cfg.Listeners.LinkFor(network); l != nil {
		t.Out = l
	}
}
