// Package echo is the echo test service: a back-to-back user agent
// plugin that answers calls to one address (echo@<domain> by default)
// and sends every RTP and RTCP packet it receives back to the caller,
// without touching the codec. It is also the template for plugins that
// own dialogs over the node's SIP link (README.md).
//
// The plugin's chain entry proxies INVITEs for the served address to the
// plugin's own sipgo user agent on loopback; the node record-routes them,
// so the whole dialog runs between the caller and that user agent through
// the node. Requests the user agent sends to the node carry
// sdk.LinkHeader with the instance's link token.
package echo

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
const Version = "1.0.0"

// Service is one running echo: its settings, its user agent and its
// calls. The zero value is not usable: use NewService.
type Service struct {
	log   *slog.Logger
	stats Stats

	mu       sync.Mutex
	settings Settings
	link     sdk.Link
	ua       *agent
}

// NewService returns an unconfigured echo; log nil logs with sdk.Logger.
func NewService(log *slog.Logger) *Service {
	if log == nil {
		log = sdk.Logger()
	}
	return &Service{log: log.With("component", "echo")}
}

// New returns the plugin (what cmd/echo serves).
func New() sdk.App { return NewService(nil).App() }

// App is the sdk.App around s.
func (s *Service) App() sdk.App {
	return sdk.App{
		Name:      "echo",
		Version:   Version,
		Methods:   []string{"INVITE", "OPTIONS"},
		Configure: s.Configure,
		Claim:     s.Claim,
		Handle:    s.Handle,
		Health:    s.Health,
		Details:   s.details,
		Metrics:   s.registry(),
	}
}

// Configure reads the settings and starts the user agent (again, if it
// ran: calls of the previous configuration are ended).
func (s *Service) Configure(ctx context.Context, cfg sdk.Config, _ sdk.Host) error {
	st, err := ParseSettings(cfg.Settings, cfg.Domains)
	if err != nil {
		return err
	}
	ua, err := startAgent(ctx, st, cfg.Link, &s.stats, s.log)
	if err != nil {
		return fmt.Errorf("echo: start user agent: %w", err)
	}
	s.mu.Lock()
	old := s.ua
	s.settings, s.link, s.ua = st, cfg.Link, ua
	s.mu.Unlock()
	if old != nil {
		old.close(ctx)
	}
	s.log.Info("echo ready", "address", st.Address(), "ua", ua.addr, "link", cfg.Link.Address != "")
	return nil
}

// Claim is the served address, so that the node routes it here.
func (s *Service) Claim(sdk.Config) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.settings.User == "" {
		return nil
	}
	return []string{s.settings.Address()}
}

// Handle proxies an initial INVITE, and an out-of-dialog OPTIONS (the
// health ping), for the served address to the user agent; everything
// else continues.
func (s *Service) Handle(_ context.Context, req *sdk.Request) sdk.Verdict {
	s.mu.Lock()
	st, ua := s.settings, s.ua
	s.mu.Unlock()
	if ua == nil || (!req.IsInvite() && req.Method != sip.OPTIONS) {
		return sdk.Continue()
	}
	if to := req.To(); to != nil {
		if tag, _ := to.Params.Get("tag"); tag != "" {
			return sdk.Continue() // in dialog: record-routed, never ours to route
		}
	}
	u := req.Recipient
	if !strings.EqualFold(u.User, st.User) || !strings.EqualFold(u.Host, st.Domain) {
		return sdk.Continue()
	}
	return sdk.Proxy(ua.target())
}

// Health reports a user agent that is not running.
func (s *Service) Health(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ua == nil {
		return fmt.Errorf("echo: not configured")
	}
	return nil
}

// Addr is the user agent's SIP address (host:port, UDP and TCP); empty
// before Configure.
func (s *Service) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ua == nil {
		return ""
	}
	return s.ua.addr
}

// Stats are the service's counters.
func (s *Service) Stats() *Stats { return &s.stats }

// Close ends every call (BYE, bounded by ctx) and stops the user agent.
func (s *Service) Close(ctx context.Context) {
	s.mu.Lock()
	ua := s.ua
	s.ua = nil
	s.mu.Unlock()
	if ua != nil {
		ua.close(ctx)
	}
	s.log.Info("echo closed", "stats", &s.stats)
}
