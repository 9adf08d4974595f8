package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/raftnode"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/admin"
	"github.com/parley-rtc/parley/core/archive"
	"github.com/parley-rtc/parley/core/auth"
	"github.com/parley-rtc/parley/core/config"
	"github.com/parley-rtc/parley/core/directory"
	"github.com/parley-rtc/parley/core/flood"
	"github.com/parley-rtc/parley/core/location"
	"github.com/parley-rtc/parley/core/metrics"
	"github.com/parley-rtc/parley/core/offline"
	"github.com/parley-rtc/parley/core/pipeline"
	"github.com/parley-rtc/parley/core/presence"
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/registrar"
	"github.com/parley-rtc/parley/core/staticroute"
	"github.com/parley-rtc/parley/core/transport"
	"github.com/parley-rtc/parley/core/xcap"
	"github.com/parley-rtc/parley/plugins/host"
)

// Option changes how Run builds a node beyond its configuration.
type Option func(*options)

type options struct {
	launch host.Launcher
}

// WithPluginLauncher makes the node start its plugin apps with launch
// instead of running binaries from plugin-dir: tests run plugins in
// process (host.InProcess); only interop-tests start binaries.
func WithPluginLauncher(launch host.Launcher) Option {
	return func(o *options) { o.launch = launch }
}

// Run starts a node from cfg and serves until ctx ends.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) error {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("node: data dir %s: %w", cfg.DataDir, err)
	}
	token, err := adminToken(cfg.AdminToken, cfg.DataDir)
	if err != nil {
		return err
	}
	release, err := useProcessSettings(cfg.SIPTimeout)
	if err != nil {
		return err
	}
	defer release()
	// Every goroutine Run starts has ended when Run returns: the servers'
	// are counted in bg (its deferred Wait runs after they are closed),
	// the loops bound to ctx in loops (waited before raft closes). A
	// stopped node leaves nothing behind that reads process-wide settings
	// (sipgo's timers) or writes to the state.
	var bg, loops sync.WaitGroup
	defer bg.Wait()
	if cfg.PprofListen != "" {
		ps, err := startPprof(cfg.PprofListen, &bg, log)
		if err != nil {
			return err
		}
		defer ps.Close()
	}
	st := state.New()
	rcfg, err := raftConfig(cfg, log)
	if err != nil {
		return err
	}
	rn, err := raftnode.Open(rcfg, st)
	if err != nil {
		return err
	}
	defer func() {
		if err := rn.Close(); err != nil {
			log.Warn("raft did not close cleanly", "error", err)
		}
	}()
	if cfg.Join != "" && !rn.HadState() {
		if err := joinCluster(ctx, cfg, cfg.Join, token, cfg.NodeID, rn.Addr(), log); err != nil {
			return err
		}
	}

	var w state.Writer = rn // a follower forwards writes to the leader
	if onRaft != nil {
		onRaft(cfg, rn)
	}
	loc := location.New(st, w, cfg.NodeID, log.With("component", "location"))
	var live *location.Liveness
	if cfg.ClusterLink() != "" {
		live = location.NewLiveness(st, cfg.NodeID, livenessInterval)
		loc.SetLiveness(live)
	}
	m := metrics.New(
		func() float64 { return float64(st.UserCount()) },
		func() float64 { return float64(st.BindingCount()) },
		func() float64 { return float64(loc.PendingRefreshes()) },
	)
	dir := directory.New(st, rn, cfg.Domains)
	arch, err := archive.Open(archive.Config{Dir: filepath.Join(cfg.DataDir, "archive")})
	if err != nil {
		return fmt.Errorf("node: archive: %w", err)
	}
	defer arch.Close()
	sipNode, err := startSIP(ctx, cfg, o, log, st, w, loc, m, dir, arch)
	if err != nil {
		return err
	}
	defer sipNode.close()
	defer sipNode.presence.Stop() // on every way out (it is idempotent)

	ready := readiness{rn: rn, p: sipNode.pipe}
	adminTLS, err := serverTLS(cfg.AdminTLSCert, cfg.AdminTLSKey)
	if err != nil {
		return err
	}
	peers, err := adminClient(cfg, admin.FanoutTimeout)
	if err != nil {
		return err
	}
	httpSrv, err := startHTTPS("admin", cfg.AdminListen, adminTLS, &bg, admin.NewHandler(admin.Config{
		Token: token, Directory: dir, State: st, Cluster: ready, Registry: m.Registry, Presence: sipNode.presence, Writer: rn, Archive: arch,
		Members: rn, Node: cfg.NodeID, Client: peers, MetricsToken: cfg.MetricsToken, Gatherer: sipNode.plugins.Gatherer(m.Registry),
		Plugins: func(app string) (admin.PluginState, bool) {
			st, ok := sipNode.plugins.Status(app)
			return pluginState(st), ok
		},
		Logger:   log.With("component", "admin"),
		PSTNSelf: pstnSelf(sipNode.ls.All()),
	}), log)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = httpSrv.Shutdown(sctx)
	}()

	if err := rn.WaitReady(ctx); err != nil {
		return fmt.Errorf("node: cluster not ready: %w", err)
	}
	algs := make([]auth.Algorithm, len(cfg.DigestAlgorithms))
	for i, a := range cfg.DigestAlgorithms {
		algs[i] = auth.Algorithm(a)
	}
	authCfg := auth.Config{Secret: st.Secret(), NonceLifetime: cfg.NonceLifetime, Algorithms: algs}
	sipNode.pipe.SetSecret(st.Secret(), authCfg)
	if cfg.XCAPListen != "" {
		xcapTLS, err := serverTLS(cfg.XCAPTLSCert, cfg.XCAPTLSKey)
		if err != nil {
			return err
		}
		xs, err := startHTTPS("xcap", cfg.XCAPListen, xcapTLS, &bg, xcap.NewHandler(xcap.Config{
			Store: presence.NewXcapStore(st, rn), Auth: auth.NewAuthenticator(authCfg), Lookup: dir.HA1,
			Realm: realmOf(cfg.Domains), Logger: log.With("component", "xcap"),
		}), log)
		if err != nil {
			return err
		}
		defer xs.Close()
	}
	defer loops.Wait() // runs first of the deferred calls: before raft closes
	loops.Go(func() { loc.Run(ctx, cfg.RefreshInterval) })
	loops.Go(func() { sipNode.presence.Run(ctx) })
	loops.Go(func() { sipNode.offline.Run(ctx) })
	if live != nil {
		loops.Go(func() { live.Run(ctx) })
	}
	loops.Go(func() { publishMember(ctx, cfg, st, w, sipNode.ls, log.With("component", "members")) })
	loops.Go(func() { sipNode.plugins.Run(ctx) })
	log.Info("parleyd ready", "node", cfg.NodeID, "domains", cfg.Domains, "admin", cfg.AdminListen,
		"bindings", st.BindingCount(), "users", st.UserCount())
	<-ctx.Done()
	log.Info("parleyd stopping")
	sipNode.presence.Stop() // ends and waits for its NOTIFYs
	sipNode.close()         // stop taking requests; loc.Run then flushes the last refreshes
	return nil
}

// udpMaxMessage is the largest message parleyd sends over UDP: the
// largest IPv4 datagram payload.
const udpMaxMessage = 65507

// maxParsedMessage is the largest message parsed at all (bodies above
// the pipeline's 64 KiB get 413; beyond this, TCP connections are reset
// and datagrams dropped).
const maxParsedMessage = 96 << 10

// sipNode is the SIP side of a node.
type sipNode struct {
	ua       *sipgo.UserAgent
	ls       *transport.Set
	pipe     *pipeline.Pipeline
	presence *presence.Agent
	plugins  *host.Host
	offline  *offline.Service
}

func (s *sipNode) close() {
	if s.ls != nil {
		s.ls.Close()
		s.ls = nil
		_ = s.ua.Close()
	}
}

func startSIP(ctx context.Context, cfg config.Config, o options, log *slog.Logger, st *state.State, rn state.Writer, loc *location.Service, m *metrics.Metrics, dir *directory.Directory, arch *archive.Archive) (*sipNode, error) {
	quiet := slog.New(quietHandler{log.Handler()}).With("component", "sipgo")
	peers := peerCheck(cfg, st)
	specs, err := listenerSpecs(cfg)
	if err != nil {
		return nil, err
	}
	fed, err := newFederation(cfg, peers, log)
	if err != nil {
		return nil, err
	}
	link, linkCert, linkRoots, err := clusterLink(cfg)
	if err != nil {
		return nil, err
	}
	if linkRoots != nil {
		fed.dial.Certificates = append(fed.dial.Certificates, linkCert)
		fed.dial.ClusterRoots = linkRoots
	}
	var pxRef atomic.Pointer[proxy.Proxy] // set once the pipeline exists
	// Parse messages somewhat larger than the pipeline accepts, so that an
	// oversized body gets 413 instead of a silent drop.
	parser := sip.NewParser()
	parser.MaxMessageLength = maxParsedMessage
	uaOpts := []sipgo.UserAgentOption{
		sipgo.WithUserAgent("Parley"),
		sipgo.WithUserAgentParser(parser),
		sipgo.WithUserAgentHostname(cfg.Domains[0]),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(quiet),
			sip.WithTransactionLayerUnhandledResponseHandler(func(r *sip.Response) {
				if px := pxRef.Load(); px != nil {
					px.HandleStrayResponse(r)
				}
			}),
		),
	}
	if dialTLS := transport.DialTLS(fed.dial); dialTLS != nil {
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(dialTLS))
	}
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		return nil, fmt.Errorf("node: sip user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	if err != nil {
		return nil, fmt.Errorf("node: sip server: %w", err)
	}
	ls := transport.NewSet(log.With("component", "transport"))
	s := &sipNode{ua: ua, ls: ls}
	storeOffline := func(ctx context.Context, req *sip.Request, aor string) (int, string) {
		return s.offline.Store(ctx, req, aor) // set below, before any listener serves
	}
	reg := registrar.New(registrar.Config{
		Node: cfg.NodeID, MinExpires: cfg.MinExpires, MaxExpires: cfg.MaxExpires, DefaultExpires: cfg.DefaultExpires,
		AlwaysFlow: cfg.AlwaysFlow, Own: ls.IsOwn,
	}, st, rn, loc, log.With("component", "registrar"))
	s.pipe = pipeline.New(ctx, pipeline.Config{
		Node: cfg.NodeID, Role: cfg.Role, Domains: cfg.Domains, Listeners: ls, State: st, Registrar: reg, Location: loc,
		Throttle: auth.NewThrottle(auth.ThrottleConfig{}), Lookup: dir.HA1, Routes: staticroute.New(st),
		Flood:   flood.New(flood.Config{Rate: float64(cfg.FloodRate), Burst: cfg.FloodBurst, Ban: cfg.FloodBan}),
		Metrics: m, Logger: log.With("component", "pipeline"),
		MaxTxPerConn: cfg.MaxTxPerConn, TxLifetime: cfg.SIPTimeout, RecurseRedirects: cfg.RecurseRedirects,
		Archive: arch, TrustedPeers: cfg.TrustedPeers, Resolver: fed.resolver,
		EdgeInward: fed.inward, TopologyHiding: cfg.TopologyHiding, Offline: storeOffline,
		FailoverTimer: cfg.FailoverTimer, SerialInvite: cfg.InviteFork == config.ForkSerial, MaxBranches: cfg.MaxBranches,
	})
	px := proxy.New(proxy.Config{RewriteStateless: s.pipe.RewriteStateless}, ua.TransactionLayer(), ls, s.pipe.Secret, log.With("component", "proxy"))
	s.presence = presence.New(presence.Config{
		Node: cfg.NodeID, Domains: cfg.Domains, MinExpires: cfg.MinExpires, MaxExpires: cfg.MaxExpires,
		Claimed: s.pipe.Claimed, Logger: log.With("component", "presence"),
	}, st, rn, loc, px, ls)
	s.pipe.SetProxy(px, s.presence)
	loc.SetRank(s.presence.EndpointRanks)
	leader, _ := rn.(interface{ IsLeader() bool })
	s.offline = offline.New(offline.Config{
		Node: cfg.NodeID, State: st, Writer: rn, Send: px.Originate,
		PerUser: cfg.OfflinePerUser, Total: cfg.OfflineTotal, TTL: cfg.OfflineLifetime,
		IsLeader: func() bool { return leader != nil && leader.IsLeader() },
		Logger:   log.With("component", "offline"),
	})
	pxRef.Store(px)
	pdir, err := pluginDir(cfg.PluginDir)
	if err != nil {
		_ = ua.Close()
		return nil, err
	}
	plink, plinkAddr, err := linkSpecs(cfg.PluginLink)
	if err != nil {
		_ = ua.Close()
		return nil, err
	}
	services := host.Services{Bindings: loc.Current, Presence: s.presence.LevelOf, Originate: px.Originate}
	if plinkAddr != "" {
		services.Inject = linkInject(px, ls, plinkAddr)
	}
	s.plugins = host.New(host.Config{
		Node: cfg.NodeID, Domains: cfg.Domains, Dir: pdir, TxLifetime: cfg.SIPTimeout, State: st, Writer: rn, Metrics: m.Plugins,
		Services: services, Link: plinkAddr, Launch: o.launch, Logger: log, LeaseTTL: cfg.PluginLeaseTTL,
	})
	s.pipe.SetPlugins(s.plugins)
	for _, method := range []sip.RequestMethod{sip.INVITE, sip.ACK, sip.CANCEL, sip.BYE, sip.REGISTER, sip.OPTIONS,
		sip.SUBSCRIBE, sip.NOTIFY, sip.REFER, sip.INFO, sip.MESSAGE, sip.PRACK, sip.UPDATE, sip.PUBLISH} {
		srv.OnRequest(method, s.pipe.Handle)
	}
	srv.OnNoRoute(s.pipe.Handle)
	ls.Intercept(s.pipe.UDP().Intercept)
	if err := ls.Open(ctx, srv, specs, cfg.SIPAdvertise); err != nil {
		_ = ua.Close()
		return nil, err
	}
	if err := openLink(ctx, ls, srv, plink); err != nil {
		ls.Close()
		_ = ua.Close()
		return nil, err
	}
	if link != nil {
		// The link advertises its own address: members reach it there.
		if err := ls.Open(ctx, srv, []transport.Spec{*link}, link.Host); err != nil {
			ls.Close()
			_ = ua.Close()
			return nil, err
		}
	}
	return s, nil
}

// pluginDir is where plugin binaries live: plugin-dir, or the directory
// of the parleyd executable (make build puts both in bin/).
func pluginDir(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("node: plugin-dir: %w", err)
	}
	return filepath.Dir(exe), nil
}

func listenerSpecs(cfg config.Config) ([]transport.Spec, error) {
	ls, err := cfg.Listeners()
	if err != nil {
		return nil, err
	}
	var base *tls.Config
	specs := make([]transport.Spec, 0, len(ls))
	for _, l := range ls {
		trust, err := transport.ParseTrust(l.Trust)
		if err != nil {
			return nil, err
		}
		sp := transport.Spec{Scheme: l.Scheme, Host: l.Host, Port: l.Port, Trust: trust}
		if l.TLS() {
			if base == nil {
				cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
				if err != nil {
					return nil, fmt.Errorf("node: tls-cert/tls-key: %w", err)
				}
				base = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			}
			sp.TLS = base
			if trust == transport.Server {
				roots, err := loadCA(cfg.TLSCA)
				if err != nil {
					return nil, err
				}
				sp.TLS = transport.ServerTLS(base, roots)
			}
		}
		specs = append(specs, sp)
	}
	return specs, nil
}

// startHTTP serves h on addr in the background, on a goroutine counted
// in bg that ends when the server is shut down or closed.
func startHTTP(name, addr string, bg *sync.WaitGroup, h http.Handler, log *slog.Logger) (*http.Server, error) {
	return startHTTPS(name, addr, nil, bg, h, log)
}

// startHTTPS is startHTTP with TLS when tc is set.
func startHTTPS(name, addr string, tc *tls.Config, bg *sync.WaitGroup, h http.Handler, log *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("node: %s listen %s: %w", name, addr, err)
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	bg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "server", name, "error", err)
		}
	})
	log.Info("http server listening", "server", name, "addr", ln.Addr().String(), "tls", tc != nil)
	return srv, nil
}

// realmOf gives an XCAP user's realm: the domain of its XUI when ours,
// else the default domain.
func realmOf(domains []string) func(xui string) string {
	return func(xui string) string {
		aor := state.OwnerOf(xui)
		d := strings.ToLower(aor[strings.LastIndexByte(aor, '@')+1:])
		for _, ours := range domains {
			if d == ours {
				return d
			}
		}
		return domains[0]
	}
}

// readiness is ready when raft is and the pipeline has the secret.
type readiness struct {
	rn *raftnode.Node
	p  *pipeline.Pipeline
}

func (r readiness) Status() raftnode.Status { return r.rn.Status() }

func (r readiness) Ready() error {
	if err := r.rn.Ready(); err != nil {
		return err
	}
	if r.p.Secret() == nil {
		return fmt.Errorf("node: sip pipeline starting")
	}
	return nil
}
