package pipeline

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/proxy"
)

// Topology hiding on an edge (topology-hiding: true): a partner sees only
// the edge. On the way out the edge keeps only its own Via (the others
// are put back on the responses from the server transaction, which holds
// the original request: the transaction is the state keyed by branch),
// keeps only its outer Record-Route (the inner ones are put back on the
// responses) and replaces the Contact with an edge URI whose user part
// carries the original Contact and the hidden route set, sealed with an
// HMAC under the cluster secret. Responses to a partner's requests lose
// the internal Record-Route entries and Contact the same way. An
// in-dialog request from the partner addressed to such a URI gets its
// Contact back as Request-URI and the hidden routes as Route headers.

// maskPrefix starts the user part of a masked Contact.
const maskPrefix = "th-"

// mask is what a masked Contact carries.
type mask struct {
	Contact string   `json:"c"`
	Routes  []string `json:"r,omitempty"`
}

func (p *Pipeline) hiding() bool { return p.cfg.Role == state.RoleEdge && p.cfg.TopologyHiding }

// hide sets up topology hiding on a forward from the edge.
func (p *Pipeline) hide(c *call, t *proxy.Target) {
	if !p.hiding() {
		return
	}
	if c.partner != nil { // inward: hide the cluster in the responses
		t.RewriteResponse = func(res *sip.Response) { p.hideResponse(c, res) }
		return
	}
	u := c.req.Recipient
	if p.isOurDomain(u.Host, u.Port) {
		return // inward from a cluster member: nothing to hide
	}
	var hidden []string
	t.Rewrite = func(fwd *sip.Request) { hidden = p.hideRequest(fwd) }
	t.RewriteResponse = func(res *sip.Response) {
		for res.RemoveHeader("Via") {
		}
		for _, v := range c.req.GetHeaders("Via") {
			res.AppendHeader(sip.HeaderClone(v))
		}
		if len(hidden) > 0 && len(res.GetHeaders("Record-Route")) > 0 {
			for _, r := range hidden {
				res.AppendHeader(sip.NewHeader("Record-Route", "<"+r+">"))
			}
		}
	}
}

// hideRequest strips an outgoing request down to our Via and our outer
// Record-Route and masks its Contact; it returns the hidden Record-Route
// URIs, top first.
func (p *Pipeline) hideRequest(fwd *sip.Request) []string {
	top := fwd.Via()
	if top == nil {
		return nil
	}
	top = top.Clone()
	for fwd.RemoveHeader("Via") {
	}
	fwd.PrependHeader(top)
	rrs := routeURIs(fwd.GetHeaders("Record-Route"))
	var hidden []string
	if len(rrs) > 1 {
		for _, u := range rrs[1:] {
			hidden = append(hidden, u.String())
		}
		for fwd.RemoveHeader("Record-Route") {
		}
		fwd.PrependHeader(&sip.RecordRouteHeader{Address: rrs[0]})
	}
	if ct := fwd.Contact(); ct != nil && !ct.Address.Wildcard {
		p.maskContact(ct, hidden, top.Host, top.Port, top.Transport)
	}
	return hidden
}

// hideResponse removes the Record-Route entries above our outer one and
// masks the Contact of a response going to a partner.
func (p *Pipeline) hideResponse(c *call, res *sip.Response) {
	rrs := routeURIs(res.GetHeaders("Record-Route"))
	outer := -1
	for i := len(rrs) - 1; i >= 0; i-- {
		if proxy.IsOwnRoute(p.cfg.Listeners, rrs[i]) {
			outer = i
			break
		}
	}
	var routes []string // the partner's route order: the hidden ones reversed
	if outer > 0 {
		for i := outer - 1; i >= 0; i-- {
			routes = append(routes, rrs[i].String())
		}
		for res.RemoveHeader("Record-Route") {
		}
		for _, u := range rrs[outer:] {
			res.AppendHeader(&sip.RecordRouteHeader{Address: u})
		}
	}
	if ct := res.Contact(); ct != nil && !ct.Address.Wildcard {
		p.maskContact(ct, routes, c.in.Advertise, c.in.Port, c.in.Network)
	}
}

// maskContact replaces a Contact URI with one of ours carrying it.
func (p *Pipeline) maskContact(ct *sip.ContactHeader, routes []string, host string, port int, network string) {
	raw, _ := json.Marshal(mask{Contact: ct.Address.String(), Routes: routes})
	body := base64.RawURLEncoding.EncodeToString(raw)
	params := sip.NewParams()
	params.Add("transport", strings.ToLower(network))
	ct.Address = sip.Uri{Scheme: "sip", User: maskPrefix + body + "." + p.maskMAC(body), Host: host, Port: port, UriParams: params}
}

func (p *Pipeline) maskMAC(body string) string {
	m := hmac.New(sha256.New, p.Secret())
	m.Write([]byte("topology-hiding\x00" + body))
	return hex.EncodeToString(m.Sum(nil)[:10])
}

// unhide restores a request addressed to a masked Contact: the original
// Contact becomes the Request-URI and the hidden routes come back as
// Route headers (ours among them are consumed again). ok is false when
// the mask does not verify.
func (p *Pipeline) unhide(c *call) (ok bool) {
	u := c.req.Recipient
	if !strings.HasPrefix(u.User, maskPrefix) || !p.isOurDomain(u.Host, u.Port) {
		return true
	}
	body, mac, found := strings.Cut(strings.TrimPrefix(u.User, maskPrefix), ".")
	if !found || !hmac.Equal([]byte(mac), []byte(p.maskMAC(body))) {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	var m mask
	if err != nil || json.Unmarshal(raw, &m) != nil {
		return false
	}
	var contact sip.Uri
	if sip.ParseUri(m.Contact, &contact) != nil {
		return false
	}
	routes := make([]*sip.RouteHeader, 0, len(m.Routes))
	for _, r := range m.Routes {
		var ru sip.Uri
		if sip.ParseUri(r, &ru) != nil {
			return false
		}
		routes = append(routes, &sip.RouteHeader{Address: ru})
	}
	c.req.Recipient = contact
	for i := len(routes) - 1; i >= 0; i-- {
		c.req.PrependHeader(routes[i])
	}
	p.consumeOwnRoutes(c)
	return true
}

// routeURIs parses Route or Record-Route headers, each of which may hold
// several comma-separated entries, into URIs, top first.
func routeURIs(hs []sip.Header) []sip.Uri {
	var out []sip.Uri
	for _, h := range hs {
		for _, part := range splitRoutes(h.Value()) {
			s := strings.TrimSpace(part)
			if i, j := strings.IndexByte(s, '<'), strings.IndexByte(s, '>'); i >= 0 && j > i {
				s = s[i+1 : j]
			}
			var u sip.Uri
			if sip.ParseUri(s, &u) == nil && u.Host != "" {
				out = append(out, u)
			}
		}
	}
	return out
}

// splitRoutes splits a header value on commas outside angle brackets.
func splitRoutes(v string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '<':
			depth++
		case '>':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}
