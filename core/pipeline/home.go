package pipeline

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/location"
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/core/transport"
)

// Home-node routing (docs/architecture.md, "Cluster routing"): a binding
// is homed on the node that holds its flow. When the router picks a
// binding homed elsewhere, the request goes to that node's intra-cluster
// SIP link (its member entry's SIPAddr, config cluster-sip) with a loose
// Route naming the binding:
//
//	Route: <sip:HOST:PORT;transport=tcp;lr;ph=B64(aor NUL key);pt=TOKEN>
//
// where TOKEN is the dialog-token HMAC, under the cluster secret, of the
// Call-ID, a NUL and the ph value. The home node consumes the Route,
// finds the binding and sends the request down its flow without running
// the application chain again (it ran on the first node). Both nodes
// record-route, so in-dialog requests follow the same path. The ph
// parameter is honoured only on the cluster link, from a member's
// address, with a valid token; anywhere else it gets 403.

// homeParam is the Route URI parameter naming a binding on its home node.
const homeParam = "ph"

// clusterListener returns this node's end of the cluster link, nil when
// it has none.
func (p *Pipeline) clusterListener() *transport.Listener {
	for _, l := range p.cfg.Listeners.All() {
		if l.Trust == transport.Cluster {
			return l
		}
	}
	return nil
}

// errNoLink: a binding's home node publishes no usable cluster link.
var errNoLink = errors.New("pipeline: home node has no cluster link")

// homeTarget routes a request to binding b of aor, homed on another
// node, through that node's cluster link.
func (p *Pipeline) homeTarget(c *call, aor string, b state.Binding, uri sip.Uri) (proxy.Target, error) {
	t, ok := p.linkTarget(c, b.Home, homeParam, encodeHomeMark(aor, b.Key()))
	if !ok {
		m, _ := p.cfg.State.Member(b.Home)
		p.log.Warn("binding homed on a node without a cluster link", "aor", aor, "home", b.Home, "link", m.SIPAddr)
		return proxy.Target{}, errNoLink
	}
	t.URI = uri
	c.viaHome = b.Home
	return t, nil
}

// linkTarget is the target that sends c to member's cluster link with a
// loose Route of ours carrying param=mark and its token; ok false when
// the member publishes no stream link.
func (p *Pipeline) linkTarget(c *call, member, param, mark string) (proxy.Target, bool) {
	m, _ := p.cfg.State.Member(member)
	link, ok := location.ParseLink(m.SIPAddr)
	host, port, _ := net.SplitHostPort(link.HostPort)
	if !ok || link.Network == "UDP" {
		return proxy.Target{}, false
	}
	pn, _ := strconv.Atoi(port)
	params := sip.NewParams()
	params.Add("transport", strings.ToLower(link.Network))
	params.Add("lr", "")
	params.Add(param, mark)
	params.Add("pt", proxy.Token(p.Secret(), homeTokenInput(c.req, mark)))
	route := sip.Uri{Scheme: "sip", Host: host, Port: pn, UriParams: params}
	t := proxy.Target{URI: c.req.Recipient, Dest: link.HostPort, Transport: link.Network, Route: &route}
	if out := p.clusterListener(); out != nil && out.Network == link.Network {
		t.Out = out
	}
	return t, true
}

func homeTokenInput(req *sip.Request, mark string) string {
	id := ""
	if c := req.CallID(); c != nil {
		id = string(*c)
	}
	return id + "\x00" + mark
}

// refuseForgedHome answers 403 when a request from a client listener
// carries a Route with our home marker: only members route to a binding
// directly, over the cluster link (or a mutual-TLS server listener, when
// that is what a member publishes as its SIP address; the token still
// has to be right). It runs before untrusted Routes are stripped.
func (p *Pipeline) refuseForgedHome(c *call) bool {
	if c.in.Trust == transport.Cluster || c.in.Trust == transport.Server {
		return false
	}
	if !hasHomeRoute(c.req) {
		return false
	}
	p.cfg.Metrics.Dropped.WithLabelValues("forged_home_route").Inc()
	p.respond(c, 403, "Forbidden (cluster route from outside the cluster)")
	return true
}

// hasHomeRoute reports whether req carries a Route with one of our
// cluster markers (a binding's home node, a singleton plugin's holder).
func hasHomeRoute(req *sip.Request) bool {
	for _, h := range req.Headers() { // by type: GetHeaders lower-cases every header's name
		if r, ok := h.(*sip.RouteHeader); ok && (r.Address.UriParams.Has(homeParam) || r.Address.UriParams.Has(pluginParam)) {
			return true
		}
	}
	return false
}

// noteHomeRoute records the binding a consumed Route of ours names (the
// link is the only way in for it: refuseForgedHome ran first).
func (p *Pipeline) noteHomeRoute(c *call, r sip.Uri) {
	if mark, ok := r.UriParams.Get(pluginParam); ok {
		c.pluginMark = mark
		c.homeValid = proxy.ValidToken(p.Secret(), r, homeTokenInput(c.req, mark))
		return
	}
	mark, ok := r.UriParams.Get(homeParam)
	if !ok {
		return
	}
	c.homeMark = mark
	c.homeValid = proxy.ValidToken(p.Secret(), r, homeTokenInput(c.req, mark))
}

// fromMember reports whether a request on the cluster link comes from a
// member: its source IP is the host of a member's link or raft address.
func (p *Pipeline) fromMember(source string) bool {
	ip := ipOf(source)
	for _, m := range p.cfg.State.Members() {
		link, _ := location.ParseLink(m.SIPAddr)
		for _, a := range []string{link.HostPort, m.RaftAddr} {
			if h, _, err := net.SplitHostPort(a); err == nil && sameHost(h, ip) {
				return true
			}
		}
	}
	return false
}

// sameHost compares a configured host (an IP or a name) with a source IP.
func sameHost(host, ip string) bool {
	if strings.EqualFold(strings.Trim(host, "[]"), ip) {
		return true
	}
	if net.ParseIP(host) != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if a == ip {
			return true
		}
	}
	return false
}

// deliverHome sends a request another member routed here down the flow
// of the binding its Route named.
func (p *Pipeline) deliverHome(c *call) {
	if !p.markTrusted(c) {
		return
	}
	aor, key, ok := decodeHomeMark(c.homeMark)
	if !ok {
		p.respond(c, 400, "Bad Request (cluster route)")
		return
	}
	for _, b := range p.cfg.Location.Current(aor) {
		if b.Key() != key || b.Home != p.cfg.Node {
			continue
		}
		t := proxy.Target{URI: c.req.Recipient, Dest: b.Source, Transport: b.Transport}
		rr := siputil.IsInitial(c.req) && proxy.RecordRoutes(c.req.Method)
		err := p.cfg.Proxy.Forward(p.ctx, c.req, c.tx, t, rr, c.in)
		p.countForward(c.req, err)
		return
	}
	p.respond(c, 480, "Temporarily Unavailable (binding no longer homed here)")
}

// clusterOut makes an in-dialog hop to a member's link leave through
// our end of the link.
func (p *Pipeline) clusterOut(t *proxy.Target) {
	out := p.clusterListener()
	if out == nil || t.Dest == "" {
		return
	}
	for _, m := range p.cfg.State.Members() {
		if link, ok := location.ParseLink(m.SIPAddr); ok && link.HostPort == t.Dest && link.Network == out.Network {
			t.Out, t.Transport = out, out.Network
			return
		}
	}
}

// encodeMark packs the two fields a cluster Route marker (ph, pp)
// carries: NUL-separated, base64url so it is a valid URI parameter.
func encodeMark(first, second string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(first + "\x00" + second))
}

// decodeMark reverses encodeMark; ok is false for anything that is not
// two fields with a non-empty first one.
func decodeMark(mark string) (first, second string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(mark)
	if err != nil {
		return "", "", false
	}
	first, second, ok = strings.Cut(string(raw), "\x00")
	return first, second, ok && first != "" && !strings.Contains(second, "\x00")
}

// encodeHomeMark is the ph value naming binding key of aor.
func encodeHomeMark(aor, key string) string { return encodeMark(aor, key) }

// decodeHomeMark reverses encodeHomeMark.
func decodeHomeMark(mark string) (aor, key string, ok bool) {
	aor, key, ok = decodeMark(mark)
	return aor, key, ok && key != ""
}

// markTrusted answers 403 unless the cluster Route marker c arrived with
// carried a valid token (noteHomeRoute checked it).
func (p *Pipeline) markTrusted(c *call) bool {
	if c.homeValid {
		return true
	}
	p.cfg.Metrics.Dropped.WithLabelValues("forged_home_route").Inc()
	p.respond(c, 403, "Forbidden (bad cluster route token)")
	return false
}
