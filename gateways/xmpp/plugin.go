package xmpp

import (
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// Version of the gateway, reported to the node and in jabber:iq:version.
const Version = "0.2.0"

// maxInflight bounds the XMPP -> SIP messages waiting for their SIP
// answer; beyond, a sender gets <resource-constraint/>.
const maxInflight = 512

// sender is what the gateway writes stanzas to outside a handler: the
// component Link (a fake in unit tests).
type sender interface {
	Send(ctx context.Context, stanza xml.TokenReader) error
	State() LinkState
}

// Gateway is the running plugin: its settings, the component link, the
// node's host services and the state of messages in flight. The zero
// value is not usable: use NewGateway.
type Gateway struct {
	log  *slog.Logger
	now  func() time.Time
	cseq atomic.Uint32

	mu       sync.Mutex
	cfg      Config
	host     requestSender
	out      sender
	limits   *rateLimiter
	pending  *pendingSet
	inflight chan struct{}
	pres     *presenceGW // nil without presence services
	stop     context.CancelFunc
	done     chan struct{}
	m        *gwMetrics // metrics.go
}

// NewGateway returns an unconfigured gateway; log nil logs with
// sdk.Logger.
func NewGateway(log *slog.Logger) *Gateway {
	if log == nil {
		log = sdk.Logger()
	}
	g := &Gateway{log: log.With("component", "xmpp"), now: time.Now}
	g.m = newMetrics(g)
	return g
}

// New returns the plugin (what cmd/parley-xmpp serves).
func New() sdk.App { return NewGateway(nil).App() }

// App is the sdk.App around g: a singleton (one component connection
// for the whole cluster) that sees MESSAGE requests.
func (g *Gateway) App() sdk.App {
	return sdk.App{
		Name:       "xmpp",
		Version:    Version,
		Methods:    []string{"MESSAGE"},
		Singleton:  true,
		Configure:  g.Configure,
		Claim:      g.Claim,
		Handle:     g.Handle,
		Health:     g.Health,
		OnWatchers: g.onWatchers,
		Details:    g.details,
		Metrics:    g.m.reg,
	}
}

// Configure reads the settings and starts the component link. The link
// lives until Close or the end of the process, not Configure's ctx (that
// ends with the Configure call).
func (g *Gateway) Configure(_ context.Context, cfg sdk.Config, host sdk.Host) error {
	c, err := ParseSettings(cfg.Settings, cfg.Domains)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	link := NewLink(c, g, g.log)
	done := make(chan struct{})
	g.Close()
	g.install(c, host, link)
	pres := g.installPresence(host)
	var ua *sipUA
	if cfg.Link.Address != "" {
		// XMPP -> SIP subscriptions need the gateway's own user agent on
		// the node's SIP link; without one they are only recorded.
		if ua, err = startSIPUA(cfg.Link, g.log, pres.onNotify); err != nil {
			cancel()
			return err
		}
		pres.sip = ua
	}
	g.mu.Lock()
	g.stop, g.done = cancel, done
	g.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = link.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		pres.run(ctx, link)
	}()
	go func() {
		wg.Wait()
		if ua != nil {
			ua.Close()
		}
		close(done)
	}()
	g.log.Info("xmpp gateway configured", "server", c.Server, "component", c.Component, "domains", strings.Join(c.Domains, ","))
	return nil
}

// install sets the gateway's configuration and where it sends stanzas
// (Configure with the Link; unit tests with a fake).
func (g *Gateway) install(c Config, host requestSender, out sender) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cfg, g.host, g.out = c, host, g.m.sender(out)
	g.limits = newRateLimiter(c.Rate, g.now)
	g.pending = newPendingSet(g.now)
	g.inflight = make(chan struct{}, maxInflight)
}

// installPresence sets the host the presence side publishes to and
// keeps its state in; its worker is started by the caller (pres.run).
func (g *Gateway) installPresence(host presenceHost) *presenceGW {
	p := newPresenceGW(g, host)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pres = p
	return p
}

// Close stops the component link (if running) and waits for it.
func (g *Gateway) Close() {
	g.mu.Lock()
	stop, done := g.stop, g.done
	g.stop, g.done = nil, nil
	g.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// Claim is *@ each XMPP domain, known once the settings are read.
func (g *Gateway) Claim(sdk.Config) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cfg.Claims()
}

// Health reports a component link that is down.
func (g *Gateway) Health(context.Context) error {
	g.mu.Lock()
	out := g.out
	g.mu.Unlock()
	if out == nil {
		return fmt.Errorf("xmpp: not configured")
	}
	if st := out.State(); !st.Connected {
		return fmt.Errorf("xmpp: component link down since %s: %s", st.Since.Format(time.RFC3339), st.LastError)
	}
	return nil
}

// state is a consistent view of what a request needs.
type state struct {
	cfg      Config
	host     requestSender
	out      sender
	limits   *rateLimiter
	pending  *pendingSet
	inflight chan struct{}
	pres     *presenceGW
}

func (g *Gateway) state() state {
	g.mu.Lock()
	defer g.mu.Unlock()
	return state{g.cfg, g.host, g.out, g.limits, g.pending, g.inflight, g.pres}
}

// Handle takes MESSAGE requests for the XMPP domains the gateway claims
// (sip2xmpp.go); everything else continues.
func (g *Gateway) Handle(ctx context.Context, req *sdk.Request) sdk.Verdict {
	st := g.state()
	if st.out == nil || req.Method != "MESSAGE" || !contains(st.cfg.Domains, strings.ToLower(req.Recipient.Host)) {
		return sdk.Continue()
	}
	return g.sipToXMPP(ctx, st, req)
}
