package offline

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/proxy"
)

// Defaults of the bounds.
const (
	DefaultPerUser = 100
	DefaultTotal   = 10000
	DefaultTTL     = 7 * 24 * time.Hour
)

// Config sets the store's bounds and the node's services.
type Config struct {
	Node   string
	State  *state.State
	Writer state.Writer
	// PerUser and Total bound the messages kept (per user, cluster-wide);
	// TTL is how long one is kept. Zero takes the defaults.
	PerUser, Total int
	TTL            time.Duration
	// Send originates a request to a target (proxy.Proxy.Originate).
	Send func(ctx context.Context, req *sip.Request, t proxy.Target) (*sip.Response, error)
	// IsLeader reports whether this node leads (it sweeps).
	IsLeader func() bool
	Logger   *slog.Logger
}

// Service stores and delivers offline messages.
type Service struct {
	cfg  Config
	log  *slog.Logger
	kick chan struct{}
	d    delivery
}

// New returns the service; Run delivers and sweeps.
func New(cfg Config) *Service {
	if cfg.PerUser <= 0 {
		cfg.PerUser = DefaultPerUser
	}
	if cfg.Total <= 0 {
		cfg.Total = DefaultTotal
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Service{cfg: cfg, log: log, kick: make(chan struct{}, 1)}
	s.d.init()
	if cfg.State != nil {
		cfg.State.Observe(s.observe)
	}
	return s
}

// storeTimeout bounds the store's write, well inside the sender's
// transaction.
const storeTimeout = 5 * time.Second

// Store keeps req (a MESSAGE for aor) and returns the answer: 202 once
// the write committed, 486 over quota, 480 when it was not kept. A
// typing notification (RFC 3994 isComposing) is never kept: it means
// nothing by the time its recipient signs in, so it gets 480 as before
// offline storage.
func (s *Service) Store(ctx context.Context, req *sip.Request, aor string) (code int, reason string) {
	if ephemeral(req) {
		return 480, "Temporarily Unavailable"
	}
	b := state.OfflineStore{AOR: aor, PerUser: s.cfg.PerUser, Total: s.cfg.Total, TTL: int64(s.cfg.TTL),
		Body: req.Body()}
	if h := req.From(); h != nil {
		b.From = h.Value()
	}
	if h := req.To(); h != nil {
		b.To = h.Value()
	}
	if h := req.CallID(); h != nil {
		b.CallID = h.Value()
	}
	if h := req.ContentType(); h != nil {
		b.ContentType = h.Value()
	}
	if len(b.Body) > state.MaxOfflineBody {
		return 513, "Message Too Large"
	}
	wctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	res, err := s.cfg.Writer.Write(wctx, state.CmdOfflineStore, b)
	switch {
	case errors.Is(err, state.ErrOfflineFull):
		s.log.Info("offline message refused: quota", "aor", aor, "error", err)
		return 486, "Busy Here (offline storage full)"
	case err != nil:
		s.log.Warn("offline message not stored", "aor", aor, "error", err)
		return 480, "Temporarily Unavailable"
	}
	if _, ok := res.(state.OfflineStored); !ok {
		return 480, "Temporarily Unavailable" // a retried write, or a node that skipped it
	}
	return 202, "Accepted"
}

// ephemeral reports a MESSAGE whose body is only worth something now: an
// RFC 3994 isComposing status.
func ephemeral(req *sip.Request) bool {
	ct := req.GetHeader("Content-Type")
	if ct == nil {
		return false
	}
	mt, _, _ := strings.Cut(ct.Value(), ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/im-iscomposing+xml")
}
