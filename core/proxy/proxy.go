package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/core/transport"
)

// Config tunes the proxy.
type Config struct {
	// InviteTimeout is timer C: how long an INVITE may ring before it is
	// cancelled and answered 408. Zero means 3 minutes.
	InviteTimeout time.Duration
	// RewriteStateless, when set, completes a response relayed without
	// its client transaction (a late 2xx), after our Via (ours) was
	// removed; false drops it. An edge's topology hiding puts back the
	// Vias it hid.
	RewriteStateless func(ours *sip.ViaHeader, relay *sip.Response) bool
}

// Proxy forwards requests statefully over a sipgo transaction layer.
type Proxy struct {
	cfg    Config
	txl    *sip.TransactionLayer
	tpl    *sip.TransportLayer
	ls     *transport.Set
	secret func() []byte
	log    *slog.Logger
}

// New returns a proxy using the UA's transaction and transport layers.
func New(cfg Config, txl *sip.TransactionLayer, ls *transport.Set, secret func() []byte, log *slog.Logger) *Proxy {
	if cfg.InviteTimeout <= 0 {
		cfg.InviteTimeout = 3 * time.Minute
	}
	return &Proxy{cfg: cfg, txl: txl, tpl: txl.Transport(), ls: ls, secret: secret, log: log}
}

// Target is where one forwarded copy goes.
type Target struct {
	URI       sip.Uri // the new Request-URI
	Transport string  // sipgo network name; "" keeps what the URI implies
	Dest      string  // host:port to send to (a flow's source); "" resolves the URI
	// Server marks a hop that is a server (a static route, a gateway, a
	// Route we were given): silence from it is 504, not 408.
	Server bool
	// Out, when set, is the listener the copy leaves through (its Via and
	// Record-Route); otherwise the first listener of the transport.
	Out *transport.Listener
	// Route, when set, is pushed as the top Route of the copy (a loose
	// route naming the next hop, e.g. a binding's home node).
	Route *sip.Uri
	// Routes, when set, are pushed as Route headers below Route, in order
	// (a binding's Path, RFC 3327).
	Routes []sip.Uri
	// OnRedirect, when set, sees a final 3xx before it is relayed; if it
	// returns true the 3xx is not relayed and the server transaction is
	// left without a final response for the caller to route again.
	OnRedirect func(res *sip.Response) bool
	// Failover marks a target that has others after it (RFC 3263 DNS
	// targets, an edge's inward hops): when it cannot be reached, does not
	// answer within NoAnswer (or at all), or answers 503, Forward returns
	// ErrTimeout, ErrUnreachable or ErrUnavailable without answering the
	// server transaction, so the caller can try the next one. Such an
	// error wraps ErrFailover; any other error means Forward answered.
	Failover bool
	NoAnswer time.Duration
	// Alive, when set on a Failover target with NoAnswer, is asked when
	// NoAnswer passes: while it reports true the hop is waited for
	// another NoAnswer (a live home node whose endpoint is slow), and only
	// once it reports false is the target given up (a dead home node).
	Alive func() bool
	// Policy, when set on a Failover target (ForwardSerial sets it),
	// replaces the 503-only rule: every final failure and the
	// fast-failover timer (NoAnswer, which only a provisional response
	// other than 100 stops) come back unrelayed as a branch failure
	// saying whether the policy goes on; a target that sent 100 is
	// cancelled when the timer runs out.
	Policy *Policy
	// Rewrite, when set, edits the copy about to be sent (after our Via
	// and Record-Route were added); RewriteResponse edits each response
	// before it is relayed (topology hiding on an edge).
	Rewrite         func(fwd *sip.Request)
	RewriteResponse func(res *sip.Response)
}

// Errors Forward reports after answering the server transaction.
var (
	ErrTimeout     = errors.New("proxy: next hop did not answer")
	ErrUnreachable = errors.New("proxy: next hop unreachable")
	// ErrRedirected: Target.OnRedirect took a 3xx; nothing was relayed.
	ErrRedirected = errors.New("proxy: redirected")
	// ErrUnavailable: a Failover target answered 503; nothing was relayed.
	ErrUnavailable = errors.New("proxy: next hop answered 503")
	// ErrFailover wraps ErrTimeout, ErrUnreachable or ErrUnavailable when
	// a Failover target failed and the server transaction was left
	// unanswered for the next target. Without it (a CANCEL, timer C, our
	// shutdown) Forward answered the caller and nothing may be tried.
	ErrFailover = errors.New("proxy: left for the next target")
)

// prepare builds the copy of req to send to t (RFC 3261 16.6 steps 1-8).
func (p *Proxy) prepare(req *sip.Request, t Target, recordRoute bool, in *transport.Listener) (*sip.Request, *transport.Listener, error) {
	fwd := req.Clone()
	fwd.Recipient = *t.URI.Clone()
	network := t.Transport
	if network == "" {
		network = uriNetwork(t.URI)
	}
	out := t.Out
	if out == nil {
		var err error
		if out, err = p.ls.For(network); err != nil {
			return nil, nil, fmt.Errorf("proxy: no %s listener to reach %s: %w", network, t.URI.String(), err)
		}
	}
	for i := len(t.Routes) - 1; i >= 0; i-- {
		fwd.PrependHeader(&sip.RouteHeader{Address: *t.Routes[i].Clone()})
	}
	if t.Route != nil {
		fwd.PrependHeader(&sip.RouteHeader{Address: *t.Route.Clone()})
	}
	if mf := fwd.MaxForwards(); mf != nil {
		mf.Dec()
	} else {
		h := sip.MaxForwardsHeader(70)
		fwd.AppendHeader(&h)
	}
	if recordRoute {
		tok := Token(p.secret(), callID(req))
		if in != nil && in != out {
			fwd.PrependHeader(rrHeader(in, tok))
		}
		fwd.PrependHeader(rrHeader(out, tok))
	}
	fwd.PrependHeader(viaFor(out))
	fwd.SetTransport(out.Network)
	if t.Dest != "" {
		fwd.SetDestination(t.Dest)
	} else {
		fwd.SetDestination("")
	}
	fwd.SetSource("")
	if out.Scheme == "udp" {
		// Send from the listening socket so replies reach the listener.
		if ip := net.ParseIP(hostOf(out.Bound)); ip != nil && !ip.IsUnspecified() {
			fwd.Laddr = sip.Addr{IP: ip, Port: out.Port}
		}
	}
	return fwd, out, nil
}

// Forward sends req to t and relays every response to tx until the final
// one. It blocks until the transaction is over, as sipgo handlers must.
func (p *Proxy) Forward(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, t Target, recordRoute bool, in *transport.Listener) error {
	fwd, _, err := p.prepare(req, t, recordRoute, in)
	if err != nil {
		_ = tx.Respond(siputil.Response(req, 500, "Server Internal Error (no route)"))
		return err
	}
	if t.Rewrite != nil {
		t.Rewrite(fwd)
	}
	return p.run(ctx, req, fwd, tx, t)
}

func callID(req *sip.Request) string {
	if c := req.CallID(); c != nil {
		return string(*c)
	}
	return ""
}

func hostOf(hp string) string {
	h, _, err := net.SplitHostPort(hp)
	if err != nil {
		return hp
	}
	return h
}

// uriNetwork is the transport a URI asks for: its transport parameter,
// TLS for sips, UDP otherwise.
func uriNetwork(u sip.Uri) string {
	if v, ok := u.UriParams.Get("transport"); ok && v != "" {
		return strings.ToUpper(v)
	}
	if u.IsEncrypted() {
		return "TLS"
	}
	return "UDP"
}

func retryAfter(s int) sip.Header { return sip.NewHeader("Retry-After", strconv.Itoa(s)) }
