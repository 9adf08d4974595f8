// Package udpfast is the UDP fast path of a node's request path
// (docs/architecture.md, step 5): what sipgo's server transactions would
// do for UDP requests other than INVITE, done for less.
//
//   - The stateless challenge (stateless.go): a client's initial request
//     without credentials is answered 401/407 on the listener's read
//     loop, with no server transaction (RFC 3261 8.2.7, 16.11).
//   - The direct path (direct.go): any other such request is parsed once
//     on the read loop and served on a long-lived worker (workers.go)
//     with a transaction of ours (DirectTx) whose final response goes out
//     from the listener's socket; an in-flight set absorbs
//     retransmissions meanwhile and matches CANCELs.
//   - Retransmissions (absorb.go): every UDP non-INVITE final response is
//     recorded in core/retrans and retransmissions are answered from the
//     record, on the read loop or in Handle (Absorb).
//
// The package does not know the request path. It meets it through
// Pipeline, the two calls core/pipeline implements (the challenge
// decision and serving a direct request), and core/pipeline calls it at
// three points: Intercept (the listeners' read-loop hook, installed by the
// node), Absorb (Handle) and CancelsDirect (the CANCEL step).
package udpfast

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/retrans"
	"github.com/parley-rtc/parley/core/transport"
)

// Pipeline is the request path as the fast path calls back into it
// (core/pipeline implements it). Both calls take pointers and strings
// only: nothing is boxed or copied per packet.
type Pipeline interface {
	// StatelessChallenge decides a client's initial request without
	// credentials that arrived on in from source: the challenge the
	// request path would answer it with (Challenged), Dropped (a flooding
	// source), or NoChallenge when the request path might answer
	// otherwise (an invalid request, a trusted source, a node still
	// starting); the direct path then serves it.
	StatelessChallenge(in *transport.Listener, req *sip.Request, source string) (*sip.Response, Challenge)
	// ServeDirect runs req, which arrived on in's socket from source,
	// through the request path on tx, a *DirectTx. Unless a handler
	// holds tx to answer later, ServeDirect ends it before returning.
	ServeDirect(in *transport.Listener, req *sip.Request, source string, tx sip.ServerTransaction)
}

// Challenge is the request path's decision for the stateless challenge.
type Challenge uint8

const (
	// NoChallenge: not certain to end in a challenge; the direct path
	// serves the request like any other.
	NoChallenge Challenge = iota
	// Challenged: the response is the 401 or 407 to send and record.
	Challenged
	// Dropped: the request path dropped the request; nothing is sent.
	Dropped
)

// Fate is what the fast path did with a datagram or a request.
type Fate uint8

const (
	// Passed: not the fast path's to finish. A datagram goes on to sipgo,
	// a request Handle received goes on to the request path.
	Passed Fate = iota
	// Taken: the fast path answered it, dropped it or handed it to a
	// worker; the caller does nothing more with it.
	Taken
)

// Config configures a Path.
type Config struct {
	// TxLifetime is the transaction lifetime (sip-timeout): how long a
	// final response is kept for retransmissions (timer J); 0 is 32 s.
	TxLifetime time.Duration
	// KeepTransactions leaves every request to sipgo's transactions
	// (an edge, whose topology hiding works on them); retransmissions
	// are still answered from the record.
	KeepTransactions bool
	// Logger; nil is slog.Default().
	Logger *slog.Logger
}

// Path is the fast path of one node.
type Path struct {
	cfg      Config
	pipe     Pipeline
	log      *slog.Logger
	parser   *sip.Parser
	retrans  *retrans.Store // recorded final responses (absorb.go)
	inflight *inflight      // direct requests being served (direct.go)
	workers  *workers       // that serve them (workers.go)
}

// New returns the fast path of pipe; its workers exit with ctx.
func New(ctx context.Context, pipe Pipeline, cfg Config) *Path {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Path{cfg: cfg, pipe: pipe, log: log, parser: sip.NewParser(),
		retrans: retrans.New(timerJ(cfg.TxLifetime), nil), inflight: newInflight(), workers: newWorkers(ctx)}
}

// Intercept is the transport.Interceptor of the UDP listeners.
// It first answers retransmissions whose final response is recorded
// (absorb.go); then it parses a request other than INVITE, ACK and
// CANCEL once, for the stateless challenge or else the direct path. With
// KeepTransactions (an edge) and on a cluster link the rest is sipgo's
// and Handle's. True means the datagram was taken (transport's contract).
func (f *Path) Intercept(l *transport.Listener, data []byte, from net.Addr, w net.PacketConn) bool {
	if f.resend(data, from, w) == Taken {
		return true
	}
	if f.cfg.KeepTransactions || l.Trust == transport.Cluster || !directCandidate(data) {
		return false
	}
	dest, ok := from.(*net.UDPAddr)
	if !ok {
		return false
	}
	msg, err := f.parser.ParseSIP(data) // copies what it keeps
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
	return f.challenge(l, req, source, dest, w) == Taken || f.direct(l, req, source, dest, w) == Taken
}

// timerJ is how long a UDP non-INVITE transaction absorbs retransmissions
// (64*T1: the transaction lifetime, 32 s by default).
func timerJ(lifetime time.Duration) time.Duration {
	if lifetime <= 0 {
		return 32 * time.Second
	}
	return lifetime
}
