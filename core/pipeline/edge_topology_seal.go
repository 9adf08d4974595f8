package pipeline

import (
	"encoding/json"
	"fmt"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/seal"
)

// The sealed state of topology hiding that travels in the edge's own
// headers, and the stateless relay that reads it back (edge_topology.go).

// sealStrings seals a list of header values for purpose; false (logged)
// when there is nothing to seal or sealing failed.
func (p *Pipeline) sealStrings(purpose string, vals []string) (string, bool) {
	if len(vals) == 0 {
		return "", false
	}
	raw, _ := json.Marshal(vals)
	s, err := seal.Seal(p.Secret(), purpose, raw)
	if err != nil {
		p.log.Error("topology hiding state not sealed", "purpose", purpose, "error", err)
		return "", false
	}
	return s, true
}

// openStrings opens what sealStrings sealed.
func (p *Pipeline) openStrings(purpose, sealed string) ([]string, error) {
	raw, err := seal.Open(p.Secret(), purpose, sealed)
	if err != nil {
		return nil, err
	}
	var vals []string
	if err := json.Unmarshal(raw, &vals); err != nil {
		return nil, fmt.Errorf("pipeline: sealed %s: %w", purpose, err)
	}
	return vals, nil
}

// noteHiddenRoutes adds to got the hidden route set one of our Routes
// carries (our outer Record-Route of a dialog with hidden entries), sealed.
func noteHiddenRoutes(r sip.Uri, got *consumed) {
	if v, ok := r.UriParams.Get(routesParam); ok && v != "" {
		got.hidden = v
	}
}

// dialogRoutes is the hidden route set the request's Route through us
// carried, nil without one (or when it does not open).
func (p *Pipeline) dialogRoutes(c *call) []string {
	if c.routes.hidden == "" {
		return nil
	}
	routes, err := p.openStrings(purposeRoutes, c.routes.hidden)
	if err != nil {
		p.log.Debug("hidden route set does not open", "error", err)
		return nil
	}
	return routes
}

// RewriteStateless completes a response the proxy relays without its
// client transaction (a 2xx retransmitted after it ended), whose top Via
// ours was and has been removed: outward, the Vias and Record-Route
// entries the edge hid come back from what ours and our Record-Route
// carry; inward, the response to a partner is hidden as the stateful
// relay would. False drops it (a seal that does not open, a response that
// cannot be hidden).
func (p *Pipeline) RewriteStateless(ours *sip.ViaHeader, relay *sip.Response) bool {
	if !p.hiding() {
		return true
	}
	if ours.Params.Has(partnerParam) {
		if err := p.hideResponse(relay, nil); err != nil {
			p.cfg.Metrics.Dropped.WithLabelValues("response_not_hidden").Inc()
			p.log.Debug("stateless response dropped", "error", err)
			return false
		}
		return true
	}
	sealed, ok := ours.Params.Get(viasParam)
	if !ok {
		return true
	}
	vals, err := p.openStrings(purposeVias, sealed)
	if err != nil {
		p.cfg.Metrics.Dropped.WithLabelValues("bad_hidden_via").Inc()
		p.log.Warn("response with a hidden Via set that does not open", "error", err)
		return false
	}
	for _, v := range vals {
		h, ok := parseVia(v)
		if !ok {
			p.cfg.Metrics.Dropped.WithLabelValues("bad_hidden_via").Inc()
			return false
		}
		relay.AppendHeader(h)
	}
	for _, rr := range routeURIs(relay.GetHeaders("Record-Route")) {
		v, ok := rr.UriParams.Get(routesParam)
		if !ok || !proxy.IsOwnRoute(p.cfg.Listeners, rr) {
			continue
		}
		routes, err := p.openStrings(purposeRoutes, v)
		if err != nil {
			p.cfg.Metrics.Dropped.WithLabelValues("bad_hidden_via").Inc()
			return false
		}
		for _, r := range routes {
			relay.AppendHeader(sip.NewHeader("Record-Route", "<"+r+">"))
		}
		break
	}
	return true
}

// parseVia parses one Via header value.
func parseVia(v string) (*sip.ViaHeader, bool) {
	hs, err := sip.HeadersParser(sip.DefaultHeadersParser()).ParseHeader(nil, []byte("Via: "+v))
	if err != nil || len(hs) != 1 {
		return nil, false
	}
	h, ok := hs[0].(*sip.ViaHeader)
	return h, ok
}
