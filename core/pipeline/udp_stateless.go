package pipeline

import (
	"bytes"
	"net"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/retrans"
	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/core/transport"
)

// The UDP fast path (udp_*.go): the stateless challenge (here), the
// direct path with its in-flight set (udp_direct.go) and workers
// (udp_workers.go), and retransmissions answered from core/retrans
// (udp_absorb.go). The rest of the pipeline meets it only at Intercept
// (the listeners' hook), serve (a direct request runs the same road as
// one from Handle), absorbUDP (Handle) and cancelsDirect (the CANCEL
// step).

// Stateless challenges. The first request of nearly every call from a
// client carries no credentials and is answered 401/407. RFC 3261 lets a
// server send such a final non-2xx response statelessly (8.2.7, 16.11),
// so over UDP the pipeline answers it on the listener's read loop, before
// sipgo parses it again and builds a server transaction that would live
// 32 s (timer J) with its request and response objects: the challenge's
// bytes are recorded in core/retrans instead, and a retransmission gets
// the same challenge from there.
// The response is exactly what Handle would send (same checks, same
// challenge), built from the same code; what is not certain to end in a
// challenge goes the normal way. INVITE is left to the transaction layer,
// which absorbs the ACK of its 407.

// Intercept is the transport.Interceptor of the UDP listeners.
// It first answers retransmissions whose final response is recorded
// (udp_absorb.go); then it parses a request other than INVITE, ACK and
// CANCEL once, for the stateless challenge or else the direct path
// (udp_direct.go). An edge keeps sipgo's transactions on all its paths
// (edge_topology.go), and a cluster link's requests are Handle's.
func (p *Pipeline) Intercept(l *transport.Listener, data []byte, from net.Addr, w net.PacketConn) bool {
	if p.resend(data, from, w) {
		return true
	}
	if p.cfg.Role == state.RoleEdge || l.Trust == transport.Cluster || !directCandidate(data) {
		return false
	}
	dest, ok := from.(*net.UDPAddr)
	if !ok {
		return false
	}
	msg, err := p.parser.ParseSIP(data) // copies what it keeps
	if err != nil {
		return false // sipgo logs and drops it
	}
	req, ok := msg.(*sip.Request)
	if !ok || req.IsInvite() || req.IsAck() || req.IsCancel() {
		return false // (sipgo upper-cases a method the quick look let by)
	}
	source := from.String()
	req.SetTransport(l.Network)
	req.SetSource(source)
	return p.challenge(l, req, source, dest, w) || p.direct(l, req, source, dest, w)
}

// challenge answers req statelessly with a 401 or 407 when that is what
// Handle would answer; false leaves it alone.
func (p *Pipeline) challenge(l *transport.Listener, req *sip.Request, source string, to net.Addr, w net.PacketConn) bool {
	// A Route on a client request is stripped or refused (a forged
	// cluster marker gets 403) before authentication: Handle decides.
	if l.Trust != transport.Client || !challengeable(req) || req.Route() != nil {
		return false
	}
	a := p.auth.Load()
	if a == nil {
		return false // Handle answers 503 while starting
	}
	if p.invalid(req) != nil {
		return false // serve answers it, on the direct path
	}
	if p.cfg.Routes.TrustedSource(l.Network, source) {
		return false
	}
	k := authKindOf(req)
	p.cfg.Metrics.Request(string(req.Method))
	if !p.cfg.Flood.Allow(ipOf(source)) {
		p.cfg.Metrics.Dropped.WithLabelValues("flood").Inc()
		return true
	}
	res := siputil.Response(req, k.code, k.reason, k.challenges(a, p.realmOf(k.realmURI), false)...)
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	res.StringWrite(buf)
	p.cfg.Metrics.Response(k.code)
	if _, err := w.WriteTo(buf.Bytes(), to); err != nil {
		p.log.Debug("stateless challenge not sent", "to", source, "error", err)
	}
	// Retransmissions get this very challenge (udp_absorb.go): a client that
	// sees two different 401s for one request may abort (sipp does).
	if branch, _ := req.Via().Params.Get("branch"); branch != "" {
		p.retrans.Put(retrans.KeyOf(string(req.Method), branch, source), buf.Bytes())
	}
	return true
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// challengeable reports whether req, from a client, is one the
// stateless challenge answers: an initial request (no To tag, the
// parameter's name in any letter case) without credentials of either
// kind. Anything else takes Handle's way.
func challengeable(req *sip.Request) bool {
	if to := req.To(); to != nil {
		for _, kv := range to.Params {
			if strings.EqualFold(kv.K, "tag") {
				return false
			}
		}
	}
	return !siputil.HasHeader(req, "Authorization") && !siputil.HasHeader(req, "Proxy-Authorization")
}
