package pipeline

import (
	"bytes"
	"net"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/retrans"
	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/core/transport"
)

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
// (absorb.go).
func (p *Pipeline) Intercept(l *transport.Listener, data []byte, from net.Addr, w net.PacketConn) bool {
	return p.resend(data, from, w) || p.challenge(l, data, from, w) || p.direct(l, data, from, w)
}

// challenge answers data statelessly with a 401 or 407 when that is what
// Handle would answer; false leaves it alone.
func (p *Pipeline) challenge(l *transport.Listener, data []byte, from net.Addr, w net.PacketConn) bool {
	// An edge answers REGISTER 403 before any challenge, and a Route on a
	// client request is stripped or refused (a forged cluster marker gets
	// 403) before authentication: Handle decides those.
	if l.Trust != transport.Client || p.cfg.Role == state.RoleEdge || !challengeCandidate(data) {
		return false
	}
	a := p.auth.Load()
	if a == nil {
		return false // Handle answers 503 while starting
	}
	msg, err := p.parser.ParseSIP(data)
	if err != nil {
		return false
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		return false
	}
	source := from.String()
	req.SetTransport(l.Network)
	req.SetSource(source)
	if req.IsInvite() || req.IsAck() || req.IsCancel() || req.Route() != nil {
		return false
	}
	if code, _, _ := p.invalid(req); code != 0 {
		return false
	}
	k := authKindOf(req)
	if !siputil.IsInitial(req) || siputil.HasHeader(req, k.credentials) ||
		p.cfg.Routes.TrustedSource(l.Network, source) {
		return false
	}
	p.cfg.Metrics.Requests.WithLabelValues(string(req.Method)).Inc()
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
	if _, err := w.WriteTo(buf.Bytes(), from); err != nil {
		p.log.Debug("stateless challenge not sent", "to", source, "error", err)
	}
	// Retransmissions get this very challenge (absorb.go): a client that
	// sees two different 401s for one request may abort (sipp does).
	if branch, _ := req.Via().Params.Get("branch"); branch != "" {
		p.retrans.Put(retrans.KeyOf(string(req.Method), branch, source), buf.Bytes())
	}
	return true
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// challengeCandidate is a quick look at a raw datagram: a request other
// than INVITE, ACK and CANCEL, without credentials and without a To tag.
// It may say yes to what the parsed checks then refuse, never the reverse
// for what they accept, so most other traffic is parsed once only.
func challengeCandidate(data []byte) bool {
	if !directCandidate(data) {
		return false
	}
	head := data
	if end := bytes.Index(data, []byte("\r\n\r\n")); end >= 0 {
		head = data[:end+2]
	}
	for len(head) > 0 {
		nl := bytes.IndexByte(head, '\n')
		if nl < 0 {
			nl = len(head) - 1
		}
		line := head[:nl+1]
		head = head[nl+1:]
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		switch {
		case bytes.EqualFold(name, []byte("Authorization")), bytes.EqualFold(name, []byte("Proxy-Authorization")):
			return false
		case bytes.EqualFold(name, []byte("To")), bytes.EqualFold(name, []byte("t")):
			if containsTag(line) {
				return false
			}
		}
	}
	return true
}

// containsTag reports whether line holds "tag=" in any letter case.
func containsTag(line []byte) bool {
	for i := 0; i+4 <= len(line); i++ {
		if line[i+3] == '=' && bytes.EqualFold(line[i:i+3], []byte("tag")) {
			return true
		}
	}
	return false
}
