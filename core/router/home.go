package router

import (
	"encoding/base64"
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/location"
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/transport"
)

// Home-node targets (docs/architecture.md, "Cluster routing"): a binding
// is homed on the node that holds its flow. When the router picks a
// binding homed elsewhere, the request goes to that node's intra-cluster
// SIP link (its member entry's SIPAddr, config cluster-sip) with a loose
// Route naming the binding:
//
//	Route: <sip:HOST:PORT;transport=tcp;lr;ph=B64(aor NUL key);pt=TOKEN>
//
// where TOKEN is the dialog-token HMAC, under the cluster secret, of the
// Call-ID, a NUL and the ph value (TokenInput). The home node's pipeline
// consumes the Route, finds the binding and sends the request down its
// flow without running the application chain again.

// HomeParam is the Route URI parameter naming a binding on its home node.
const HomeParam = "ph"

// ClusterListener returns this node's end of the cluster link, nil when
// it has none.
func ClusterListener(ls *transport.Set) *transport.Listener {
	for _, l := range ls.All() {
		if l.Trust == transport.Cluster {
			return l
		}
	}
	return nil
}

// homeTarget routes a request to binding b of aor, homed on another
// node, through that node's cluster link.
func (r *Router) homeTarget(req *sip.Request, aor string, b state.Binding, uri sip.Uri) (proxy.Target, error) {
	t, ok := r.LinkTarget(req, b.Home, HomeParam, EncodeHomeMark(aor, b.Key()))
	if !ok {
		m, _ := r.cfg.State.Member(b.Home)
		r.log.Warn("binding homed on a node without a cluster link", "aor", aor, "home", b.Home, "link", m.SIPAddr)
		return proxy.Target{}, errNoLink
	}
	t.URI = uri
	return t, nil
}

// LinkTarget is the target that sends req to member's cluster link with
// a loose Route of ours carrying param=mark and its token; ok false when
// the member publishes no stream link.
func (r *Router) LinkTarget(req *sip.Request, member, param, mark string) (proxy.Target, bool) {
	m, _ := r.cfg.State.Member(member)
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
	params.Add("pt", proxy.Token(r.cfg.Secret(), TokenInput(req, mark)))
	route := sip.Uri{Scheme: "sip", Host: host, Port: pn, UriParams: params}
	t := proxy.Target{URI: req.Recipient, Dest: link.HostPort, Transport: link.Network, Route: &route}
	if out := ClusterListener(r.cfg.Listeners); out != nil && out.Network == link.Network {
		t.Out = out
	}
	return t, true
}

// TokenInput is what a cluster Route marker's token signs: the Call-ID,
// a NUL and the marker.
func TokenInput(req *sip.Request, mark string) string {
	id := ""
	if c := req.CallID(); c != nil {
		id = string(*c)
	}
	return id + "\x00" + mark
}

// EncodeMark packs the two fields a cluster Route marker (ph, pp)
// carries: NUL-separated, base64url so it is a valid URI parameter.
func EncodeMark(first, second string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(first + "\x00" + second))
}

// DecodeMark reverses EncodeMark; ok is false for anything that is not
// two fields with a non-empty first one.
func DecodeMark(mark string) (first, second string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(mark)
	if err != nil {
		return "", "", false
	}
	first, second, ok = strings.Cut(string(raw), "\x00")
	return first, second, ok && first != "" && !strings.Contains(second, "\x00")
}

// EncodeHomeMark is the ph value naming binding key of aor.
func EncodeHomeMark(aor, key string) string { return EncodeMark(aor, key) }

// DecodeHomeMark reverses EncodeHomeMark.
func DecodeHomeMark(mark string) (aor, key string, ok bool) {
	aor, key, ok = DecodeMark(mark)
	return aor, key, ok && key != ""
}
