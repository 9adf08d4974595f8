package udpfast

import (
	"bytes"
	"net"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/retrans"
	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/core/transport"
)

// Stateless challenges. The first request of nearly every call from a
// client carries no credentials and is answered 401/407. RFC 3261 lets a
// server send such a final non-2xx response statelessly (8.2.7, 16.11),
// so over UDP the fast path answers it on the listener's read loop,
// before sipgo parses it again and builds a server transaction that would
// live 32 s (timer J) with its request and response objects: the
// challenge's bytes are recorded in core/retrans instead, and a
// retransmission gets the same challenge from there.
// The response is exactly what Handle would send: the request path
// decides and builds it (Pipeline.StatelessChallenge, with the same
// checks and challenge code); what is not certain to end in a challenge
// goes the direct path. INVITE is left to the transaction layer, which
// absorbs the ACK of its 407.

// challenge answers req statelessly with the 401 or 407 the request path
// would answer; Passed leaves it to the direct path.
func (f *Path) challenge(l *transport.Listener, req *sip.Request, source string, to net.Addr, w net.PacketConn) Fate {
	// A Route on a client request is stripped or refused (a forged
	// cluster marker gets 403) before authentication: Handle decides.
	if l.Trust != transport.Client || !challengeable(req) || req.Route() != nil {
		return Passed
	}
	res, decided := f.pipe.StatelessChallenge(l, req, source)
	switch decided {
	case Dropped:
		return Taken
	case Challenged:
	default:
		return Passed
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	res.StringWrite(buf)
	if _, err := w.WriteTo(buf.Bytes(), to); err != nil {
		f.log.Debug("stateless challenge not sent", "to", source, "error", err)
	}
	// Retransmissions get this very challenge (absorb.go): a client that
	// sees two different 401s for one request may abort (sipp does).
	if branch, _ := req.Via().Params.Get("branch"); branch != "" {
		f.retrans.Put(retrans.KeyOf(string(req.Method), branch, source), buf.Bytes())
	}
	return Taken
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
