package pipeline

import (
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/pipeline/udpfast"
	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/core/transport"
)

// The UDP fast path is core/pipeline/udpfast. It calls back into the
// request path through udpfast.Pipeline, implemented here by udpHook (the
// Pipeline under another name, so the two calls stay off Pipeline's own
// API); the rest of the pipeline calls it at three points: the node
// installs UDP().Intercept on the listeners, Handle asks Absorb, and the
// CANCEL step asks CancelsDirect.

// UDP is the node's UDP fast path; its Intercept is the listeners' hook
// (transport.Set.Intercept).
func (p *Pipeline) UDP() *udpfast.Path { return p.udp }

// udpHook is the pipeline as the fast path sees it.
type udpHook Pipeline

var _ udpfast.Pipeline = (*udpHook)(nil)

// StatelessChallenge is the challenge Handle would answer req with, made
// by the same checks and code: validation first (an invalid request is
// answered on the direct path), then the trusted-route and flood checks
// of admitFlood, then authenticate's challenge.
func (h *udpHook) StatelessChallenge(in *transport.Listener, req *sip.Request, source string) (*sip.Response, udpfast.Challenge) {
	p := (*Pipeline)(h)
	a := p.auth.Load()
	if a == nil || p.invalid(req) != nil || p.cfg.Routes.TrustedSource(in.Network, source) {
		return nil, udpfast.NoChallenge // starting (503), invalid, or trusted: serve decides
	}
	p.cfg.Metrics.Request(string(req.Method))
	if !p.cfg.Flood.Allow(ipOf(source)) {
		p.cfg.Metrics.Dropped.WithLabelValues("flood").Inc()
		return nil, udpfast.Dropped
	}
	k := authKindOf(req)
	p.cfg.Metrics.Response(k.code)
	return siputil.Response(req, k.code, k.reason, k.challenges(a, p.realmOf(k.realmURI), false)...), udpfast.Challenged
}

// ServeDirect runs a request of the direct path through serve, as Handle
// does, and ends its transaction unless a handler holds it (c.held: the
// registrar answers after serve returns).
func (h *udpHook) ServeDirect(in *transport.Listener, req *sip.Request, source string, tx sip.ServerTransaction) {
	p := (*Pipeline)(h)
	c := &call{req: req, tx: tx, in: in, source: source, onSocket: true}
	defer func() {
		if !c.held {
			tx.Terminate() // frees the key if serve answered nothing
		}
	}()
	p.cfg.Metrics.Request(string(req.Method))
	p.serve(c)
}
