package pipeline

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/archive"
	"github.com/parley-rtc/parley/core/auth"
	"github.com/parley-rtc/parley/core/chain"
	"github.com/parley-rtc/parley/core/flood"
	"github.com/parley-rtc/parley/core/location"
	"github.com/parley-rtc/parley/core/metrics"
	"github.com/parley-rtc/parley/core/pipeline/udpfast"
	"github.com/parley-rtc/parley/core/presence"
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/registrar"
	"github.com/parley-rtc/parley/core/resolve"
	"github.com/parley-rtc/parley/core/router"
	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/core/staticroute"
	"github.com/parley-rtc/parley/core/transport"
)

// Config wires the pipeline to the node's services.
type Config struct {
	Node      string
	Domains   []string // ours; the first is the default realm
	Listeners *transport.Set
	State     *state.State
	Registrar *registrar.Registrar
	Location  *location.Service
	Proxy     *proxy.Proxy
	Presence  *presence.Agent
	Throttle  *auth.Throttle
	Lookup    auth.Lookup // stored HA1 of enabled users (directory.HA1)
	Routes    *staticroute.Table
	Flood     *flood.Guard // per-source rate limit for untrusted connections; nil = off
	// RecurseRedirects makes the proxy follow 3xx responses itself.
	RecurseRedirects bool
	Archive          *archive.Archive // where the archive application writes; nil: not archived
	// Plugins runs the chain's plugin entries; nil: they count as down.
	Plugins PluginHost
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// TxLifetime is the transaction lifetime (sip-timeout): how long a
	// dropped request's transaction is kept silent.
	TxLifetime    time.Duration
	FailoverTimer time.Duration // router.Config.FailoverTimer (config failover-timer)
	// SerialInvite and MaxBranches: router.Config.Serial and MaxBranches
	// (config invite-fork, max-branches).
	SerialInvite bool
	MaxBranches  int
	// MaxTxPerConn bounds outstanding server transactions per client
	// connection; the next request gets 503 with Retry-After. 0 = no limit.
	MaxTxPerConn int
	// TrustedPeers are the certificate names of cluster members; other
	// server-listener peers must be allowed federation partners.
	TrustedPeers []string
	// Resolver finds partners' servers by RFC 3263; nil sends to the next
	// hop's host as sipgo resolves it.
	Resolver *resolve.Resolver
	// Role is the node's role: state.RoleHome (default), state.RoleDirector
	// or state.RoleEdge.
	Role string
	// EdgeInward are an edge's inward next hops, tried in order.
	EdgeInward []sip.Uri
	// TopologyHiding makes an edge hide internal Via, Record-Route and
	// Contact from partners.
	TopologyHiding bool
	// Offline keeps a MESSAGE for a user nobody can reach (core/offline);
	// nil: such a MESSAGE gets 480. Handed to the router.
	Offline func(ctx context.Context, req *sip.Request, aor string) (code int, reason string)
}

// Pipeline handles every request a node receives.
type Pipeline struct {
	cfg     Config
	log     *slog.Logger
	domains map[string]bool
	auth    atomic.Pointer[auth.Authenticator]
	secret  atomic.Pointer[[]byte]
	ctx     context.Context
	limit   *txLimiter
	// linkLimit bounds each plugin's requests in flight over the SIP
	// link (link.go).
	linkLimit *txLimiter
	chainc    chainCache
	// udp is the UDP fast path (udpfast; udp.go is our side of its hook).
	udp *udpfast.Path
	// router is the default router (core/router).
	router *router.Router
}

// New returns a pipeline. It answers 503 until SetSecret is called.
func New(ctx context.Context, cfg Config) *Pipeline {
	p := &Pipeline{cfg: cfg, log: cfg.Logger, domains: make(map[string]bool), ctx: ctx,
		limit: newTxLimiter(cfg.MaxTxPerConn), linkLimit: newTxLimiter(linkQueue)}
	p.udp = udpfast.New(ctx, (*udpHook)(p), udpfast.Config{
		TxLifetime: cfg.TxLifetime, KeepTransactions: cfg.Role == state.RoleEdge, Logger: cfg.Logger,
	})
	p.router = router.New(router.Config{
		Node: cfg.Node, State: cfg.State, Location: cfg.Location, Listeners: cfg.Listeners,
		Secret: p.Secret, Ours: p.isOurDomain, AOR: p.aorFor,
		TxLifetime: cfg.TxLifetime, Offline: cfg.Offline, Metrics: cfg.Metrics, Logger: cfg.Logger,
		FailoverTimer: cfg.FailoverTimer, Serial: cfg.SerialInvite, MaxBranches: cfg.MaxBranches,
	})
	cfg.State.Observe(p.invalidateChain)
	for _, d := range cfg.Domains {
		p.domains[strings.ToLower(d)] = true
	}
	return p
}

// SetProxy sets the proxy core and the presence agent (created after the
// pipeline because the proxy needs the pipeline's secret). Call it before
// any listener serves.
func (p *Pipeline) SetProxy(px *proxy.Proxy, pa *presence.Agent) {
	p.cfg.Proxy, p.cfg.Presence = px, pa
}

// SetPlugins sets the host of plugin applications. Call it before any
// listener serves.
func (p *Pipeline) SetPlugins(h PluginHost) { p.cfg.Plugins = h }

// SetSecret installs the cluster secret that keys nonces and dialog tokens.
func (p *Pipeline) SetSecret(secret []byte, cfg auth.Config) {
	cfg.Secret = secret
	p.secret.Store(&secret)
	p.auth.Store(auth.NewAuthenticator(cfg))
}

// Secret returns the cluster secret (nil before SetSecret).
func (p *Pipeline) Secret() []byte {
	if s := p.secret.Load(); s != nil {
		return *s
	}
	return nil
}

// call is one request on its way through the pipeline.
type call struct {
	req      *sip.Request
	tx       sip.ServerTransaction
	in       *transport.Listener
	source   string // remote host:port
	identity string // authenticated AOR
	// routes is what the Routes of ours the request carried said
	// (dialog.go): serve sets it from preprocessRoutes, handleAck from
	// consumeOwnRoutes, unhide adds what a mask's routes say. withinDialog
	// acts on it; further on mayReach reads its dialog token and
	// topology hiding its hidden route set.
	routes consumed
	// trusted: from a server or trusted listener, or from the next hop of
	// a trusted static route: taken as authenticated, not throttled, and
	// trusted to give routing data.
	trusted   bool
	redirects int  // 3xx followed so far (RecurseRedirects)
	onSocket  bool // arrived on the listener's own socket
	// partner is set when the request came from an allowed federation
	// partner's mutual TLS connection.
	partner *state.Partner
	// viaHome is the member a request is being sent through (the home
	// node of the router's binding, set for that send).
	viaHome string
	// atHolder: a member forwarded the request to this node as the lease
	// holder of a singleton entry, and the chain runs from that entry
	// (deliverPlugin).
	atHolder bool
	// held: a handler answers after serve returns (the registrar, once
	// its write commits); it then ends the transaction and calls settle.
	held bool
	// limitConn is the connection (or, over the SIP link, the plugin)
	// whose transaction slot the call holds in limiter (max-tx-per-conn,
	// linkQueue), "" when none.
	limitConn string
	limiter   *txLimiter
	// linkApp is the chain entry whose plugin sent the request over the
	// SIP link (link.go): its own entry is skipped.
	linkApp string
	// view is what the chain's applications see of the request (filled
	// by routeFrom; kept here so handing it to each entry allocates
	// nothing).
	view chain.Request
}

// Handle is the sipgo request handler for every method.
func (p *Pipeline) Handle(req *sip.Request, tx sip.ServerTransaction) {
	c := &call{req: req, tx: tx, source: req.Source()}
	c.in, c.onSocket = p.listenerOf(req, tx)
	p.cfg.Metrics.Request(string(req.Method))
	if c.in == nil {
		p.cfg.Metrics.Dropped.WithLabelValues("unknown_listener").Inc()
		return
	}
	var fate udpfast.Fate
	if c.tx, fate = p.udp.Absorb(c.in, c.onSocket, req, c.source, tx); fate == udpfast.Taken {
		return // a retransmission, answered from the record
	}
	p.serve(c)
}

// settle gives back the transaction slot c holds.
func (p *Pipeline) settle(c *call) {
	if c.limitConn != "" {
		c.limiter.release(c.limitConn)
	}
}

// listenerOf finds the listener a request arrived on; onSocket reports
// that it came in on the listener's own socket (not on a connection sipgo
// opened for a request of ours). Over UDP the listener's socket marked the
// request (transport.Set.Arrival): the transaction's Connection is sipgo's
// pick by source address and may be another listener's socket.
func (p *Pipeline) listenerOf(req *sip.Request, tx sip.ServerTransaction) (l *transport.Listener, onSocket bool) {
	if strings.EqualFold(req.Transport(), "UDP") {
		if l := p.cfg.Listeners.Arrival(req); l != nil {
			return l, true
		}
		l, _ = p.cfg.Listeners.For(req.Transport())
		return l, false
	}
	if stx, ok := tx.(*sip.ServerTx); ok {
		if conn := stx.Connection(); conn != nil {
			if l := p.cfg.Listeners.ByLocal(req.Transport(), conn.LocalAddr().String()); l != nil {
				return l, l.Bound == conn.LocalAddr().String()
			}
		}
	}
	l, _ = p.cfg.Listeners.For(req.Transport())
	return l, false
}

// respond sends a locally generated response and counts it.
func (p *Pipeline) respond(c *call, code int, reason string, hdrs ...sip.Header) {
	p.cfg.Metrics.Response(code)
	if err := c.tx.Respond(siputil.Response(c.req, code, reason, hdrs...)); err != nil {
		p.log.Debug("response not sent", "code", code, "error", err)
	}
}

// isOurDomain reports whether host is one of our domains or an address of
// this node.
func (p *Pipeline) isOurDomain(host string, port int) bool {
	h := strings.ToLower(strings.Trim(host, "[]"))
	if p.domains[h] {
		return true
	}
	if net.ParseIP(h) != nil || h == "localhost" {
		return p.cfg.Listeners.IsOwn(h, port)
	}
	return false
}

// aorFor maps a URI of ours to an AOR: a URI naming this node's address
// stands for the default domain.
func (p *Pipeline) aorFor(u sip.Uri) string {
	h := strings.ToLower(u.Host)
	if !p.domains[h] {
		h = p.cfg.Domains[0]
	}
	return u.User + "@" + h
}

func retryAfter(s int) sip.Header { return sip.NewHeader("Retry-After", strconv.Itoa(s)) }
