package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/seal"
	"github.com/parley-rtc/parley/core/transport"
)

// Topology hiding on an edge (topology-hiding: true): a partner sees only
// the edge. On the way out the edge keeps only its own Via, which carries
// the others sealed (th-vias), keeps only its outer Record-Route, which
// carries the inner ones sealed (th-routes: the dialog's hidden route
// set), and replaces the Contact with an edge URI whose user part carries
// the original Contact and the hidden route set, sealed. Sealing
// (core/seal) is authenticated encryption under the cluster secret: the
// partner can neither read nor alter any of it. Responses get their Vias
// back from the server transaction, or, when none is left (a 2xx
// retransmitted after the client transaction ended), from th-vias
// (RewriteStateless), and the hidden Record-Route entries after ours.
// Responses to a partner's requests lose the internal Record-Route
// entries and Contact the same way; our outer Record-Route in them
// carries the hidden route set. An in-dialog request from the partner
// addressed to a masked Contact gets its Contact back as Request-URI and
// the hidden routes as Route headers: those of the mask, else those its
// Route through us carries (a Contact refreshed by a re-INVITE from
// inside a dialog the partner started).

// maskPrefix starts the user part of a masked Contact.
const maskPrefix = "th-"

// Parameters topology hiding adds to the edge's own headers, and the
// seal purposes of what they carry.
const (
	viasParam    = "th-vias"    // our Via outward: the Vias below it
	partnerParam = "th-partner" // our Via inward: responses go to a partner
	routesParam  = "th-routes"  // our outer Record-Route: the hidden route set

	purposeContact = "topology-hiding contact"
	purposeVias    = "topology-hiding vias"
	purposeRoutes  = "topology-hiding routes"
)

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
		t.Rewrite = func(fwd *sip.Request) {
			if v := fwd.Via(); v != nil {
				v.Params.Add(partnerParam, "")
			}
		}
		t.RewriteResponse = func(res *sip.Response) { _ = p.hideResponse(res, c.in) } // in is set: always hidden
		return
	}
	u := c.req.Recipient
	if p.isOurDomain(u.Host, u.Port) {
		return // inward from a cluster member: nothing to hide
	}
	var hidden []string
	t.Rewrite = func(fwd *sip.Request) { hidden = p.hideRequest(fwd, p.dialogRoutes(c)) }
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

// hideRequest strips an outgoing request down to our Via (carrying the
// others sealed) and our outer Record-Route (carrying the inner ones
// sealed) and masks its Contact with the hidden route set: the one it
// record-routes, or for an in-dialog request, dialog (the set its Route
// through us carried). It returns the hidden Record-Route URIs, top first.
func (p *Pipeline) hideRequest(fwd *sip.Request, dialog []string) []string {
	vias := fwd.GetHeaders("Via")
	if len(vias) == 0 {
		return nil
	}
	top := fwd.Via().Clone()
	below := make([]string, 0, len(vias)-1)
	for _, v := range vias[1:] {
		below = append(below, v.Value())
	}
	if sealed, ok := p.sealStrings(purposeVias, below); ok {
		top.Params.Add(viasParam, sealed)
	}
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
		outer := rrs[0]
		if sealed, ok := p.sealStrings(purposeRoutes, hidden); ok {
			outer.UriParams.Add(routesParam, sealed)
		}
		fwd.PrependHeader(&sip.RecordRouteHeader{Address: outer})
	}
	routes := hidden
	if len(rrs) == 0 {
		routes = dialog
	}
	if ct := fwd.Contact(); ct != nil && !ct.Address.Wildcard {
		p.maskContact(ct, routes, top.Host, top.Port, top.Transport)
	}
	return hidden
}

// errNotHidden: a response whose Contact topology hiding cannot mask.
var errNotHidden = errors.New("pipeline: response cannot be hidden (no listener and no Record-Route of ours)")

// hideResponse removes the Record-Route entries above our outer one
// (which then carries them sealed) and masks the Contact of a response
// going to a partner, as an address of in, or without in (a stateless
// relay) of our outer Record-Route; errNotHidden when it has neither.
func (p *Pipeline) hideResponse(res *sip.Response, in *transport.Listener) error {
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
		if sealed, ok := p.sealStrings(purposeRoutes, routes); ok {
			rrs[outer].UriParams.Add(routesParam, sealed)
		}
		for res.RemoveHeader("Record-Route") {
		}
		for _, u := range rrs[outer:] {
			res.AppendHeader(&sip.RecordRouteHeader{Address: u})
		}
	}
	ct := res.Contact()
	if ct == nil || ct.Address.Wildcard {
		return nil
	}
	switch {
	case in != nil:
		p.maskContact(ct, routes, in.Advertise, in.Port, in.Network)
	case outer >= 0:
		rr := rrs[outer]
		p.maskContact(ct, routes, rr.Host, rr.Port, rr.UriParams.GetOr("transport", "udp"))
	default:
		return errNotHidden
	}
	return nil
}

// maskContact replaces a Contact URI with one of ours carrying it.
func (p *Pipeline) maskContact(ct *sip.ContactHeader, routes []string, host string, port int, network string) {
	raw, _ := json.Marshal(mask{Contact: ct.Address.String(), Routes: routes})
	sealed, err := seal.Seal(p.Secret(), purposeContact, raw)
	if err != nil {
		p.log.Error("contact not masked", "error", err)
		return
	}
	params := sip.NewParams()
	params.Add("transport", strings.ToLower(network))
	ct.Address = sip.Uri{Scheme: "sip", User: maskPrefix + sealed, Host: host, Port: port, UriParams: params}
}

// errBadMask: a masked Contact that does not open.
var errBadMask = errors.New("pipeline: masked contact does not open")

// unhide restores a request addressed to a masked Contact: the original
// Contact becomes the Request-URI and the hidden routes come back as
// Route headers (ours among them are consumed again, into c.routes). A
// request to anything else is left as it is. The error (errBadMask) says
// the mask does not open.
func (p *Pipeline) unhide(c *call) error {
	u := c.req.Recipient
	if !strings.HasPrefix(u.User, maskPrefix) || !p.isOurDomain(u.Host, u.Port) {
		return nil
	}
	raw, err := seal.Open(p.Secret(), purposeContact, strings.TrimPrefix(u.User, maskPrefix))
	if err != nil {
		return fmt.Errorf("%w: %w", errBadMask, err)
	}
	var m mask
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("%w: %w", errBadMask, err)
	}
	var contact sip.Uri
	if err := sip.ParseUri(m.Contact, &contact); err != nil {
		return fmt.Errorf("%w: contact: %w", errBadMask, err)
	}
	if len(m.Routes) == 0 {
		m.Routes = p.dialogRoutes(c)
	}
	routes := make([]*sip.RouteHeader, 0, len(m.Routes))
	for _, r := range m.Routes {
		var ru sip.Uri
		if err := sip.ParseUri(r, &ru); err != nil {
			return fmt.Errorf("%w: route: %w", errBadMask, err)
		}
		routes = append(routes, &sip.RouteHeader{Address: ru})
	}
	c.req.Recipient = contact
	for i := len(routes) - 1; i >= 0; i-- {
		c.req.PrependHeader(routes[i])
	}
	c.routes = p.consumeOwnRoutes(c.req, c.routes)
	return nil
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
