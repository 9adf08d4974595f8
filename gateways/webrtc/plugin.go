package webrtc

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// Version of the plugin, reported to the node.
const Version = "0.1.0"

// Gateway is one running WebRTC gateway: its settings, host services
// and user agent. Use NewGateway.
type Gateway struct {
	log *slog.Logger

	stats Stats

	mu   sync.Mutex
	cfg  Config
	host sdk.Host
	ua   *agent
}

// NewGateway returns an unconfigured gateway; log nil logs with
// sdk.Logger.
func NewGateway(log *slog.Logger) *Gateway {
	if log == nil {
		log = sdk.Logger()
	}
	return &Gateway{log: log.With("component", "webrtc")}
}

// New returns the plugin (what cmd/parley-webrtc serves).
func New() sdk.App { return NewGateway(nil).App() }

// App is the sdk.App around g.
func (g *Gateway) App() sdk.App {
	return sdk.App{
		Name:      "webrtc",
		Version:   Version,
		Methods:   []string{"INVITE", "OPTIONS"},
		Configure: g.Configure,
		Claim:     g.Claim,
		Handle:    g.Handle,
		Health:    g.Health,
		Details:   g.details,
		Metrics:   g.registry(),
	}
}

// Configure reads the settings and starts the user agent (again, if it
// ran: the previous configuration's calls are ended).
func (g *Gateway) Configure(_ context.Context, cfg sdk.Config, host sdk.Host) error {
	c, err := ParseSettings(cfg.Settings, cfg.Domains)
	if err != nil {
		return err
	}
	ua, err := startAgent(c, cfg.Link, &g.stats, g.log)
	if err != nil {
		return err
	}
	g.mu.Lock()
	old := g.ua
	g.cfg, g.host, g.ua = c, host, ua
	g.mu.Unlock()
	if old != nil {
		old.close()
	}
	g.log.Info("webrtc gateway ready", "ua", ua.addr, "ice_port", ua.env.icePort(), "identity", c.Identity)
	return nil
}

// Claim is the gateway's identity, which it asserts on the legs it
// places through the node's link.
func (g *Gateway) Claim(sdk.Config) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cfg.Identity == "" {
		return nil
	}
	return g.cfg.Claims()
}

// Handle applies the decision rule (decide.go) to an initial INVITE,
// and proxies an out-of-dialog OPTIONS for the gateway's identity (the
// health ping) to the user agent.
func (g *Gateway) Handle(ctx context.Context, req *sdk.Request) sdk.Verdict {
	g.mu.Lock()
	host, ua, identity := g.host, g.ua, g.cfg.Identity
	g.mu.Unlock()
	if ua == nil || (!req.IsInvite() && req.Method != sip.OPTIONS) {
		return sdk.Continue()
	}
	if to := req.To(); to != nil {
		if tag, _ := to.Params.Get("tag"); tag != "" {
			return sdk.Continue() // in dialog: record-routed, never ours to route
		}
	}
	if req.Method == sip.OPTIONS {
		if user, domain, _ := cutAt(identity); strings.EqualFold(req.Recipient.User, user) && strings.EqualFold(req.Recipient.Host, domain) {
			return sdk.Proxy(ua.target())
		}
		return sdk.Continue()
	}
	if req.GetHeader(sdk.LinkHeader) != nil {
		return sdk.Continue()
	}
	var offer OfferKind
	var offerErr error
	if ct := req.ContentType(); ct != nil && isSDP(ct.Value()) {
		offer, offerErr = ClassifyOffer(req.Body())
	}
	if offer == OfferNone && offerErr == nil {
		return sdk.Continue() // late offer: not yet
	}
	target := TargetPhone
	if host != nil && req.Recipient.User != "" {
		b, err := host.Bindings(ctx, req.Recipient.User+"@"+req.Recipient.Host)
		if err != nil {
			g.log.Warn("webrtc: bindings", "error", err)
			return sdk.Continue()
		}
		target = ClassifyTarget(b)
	}
	d := Decide(offer, offerErr, target)
	switch d.Action {
	case RejectCall:
		return sdk.Respond(d.Code, d.Reason)
	case ToPhone, ToBrowser:
		g.log.Debug("webrtc: taking the call", "action", d.Action.String(), "target", req.Recipient.String())
		return sdk.Proxy(ua.target()).RemoveHeader(HeaderTarget).AddHeader(HeaderTarget, req.Recipient.String())
	}
	return sdk.Continue()
}

// Health reports a gateway that is not running.
func (g *Gateway) Health(context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ua == nil {
		return fmt.Errorf("webrtc: not configured")
	}
	return nil
}

// Addr is the user agent's SIP address (host:port); empty before
// Configure.
func (g *Gateway) Addr() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ua == nil {
		return ""
	}
	return g.ua.addr
}

// Calls is how many calls are bridged right now.
func (g *Gateway) Calls() int {
	g.mu.Lock()
	ua := g.ua
	g.mu.Unlock()
	if ua == nil {
		return 0
	}
	return ua.callCount()
}

// Stats are the gateway's counters (they outlive reconfigurations).
func (g *Gateway) Stats() *Stats { return &g.stats }

// Close ends every call and stops the user agent.
func (g *Gateway) Close() {
	g.mu.Lock()
	ua := g.ua
	g.ua = nil
	g.mu.Unlock()
	if ua != nil {
		ua.close()
	}
	g.log.Info("webrtc gateway closed", "stats", &g.stats)
}
