package xmpp

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	mxmpp "mellium.im/xmpp"
	"mellium.im/xmpp/component"
	"mellium.im/xmpp/jid"
)

// ErrNotConnected: Send found no live component link.
var ErrNotConnected = errors.New("component link not connected")

// LinkState is what operators see of the component link.
type LinkState struct {
	Connected  bool
	Server     string
	Since      time.Time // of the current state
	Reconnects int       // successful connections after the first
	LastError  string
}

// Link is the XEP-0114 component connection to the XMPP server: it dials
// out (mellium's component package cannot accept), authenticates with the
// secret, hands every incoming stanza to the handler and reconnects with
// a doubling backoff from ReconnectMin to ReconnectMax when the link
// drops. The handler runs inside the session's Serve loop: it must answer
// with the TokenReadEncoder it is given, never with Send (that deadlocks).
type Link struct {
	cfg     Config
	handler mxmpp.Handler
	log     *slog.Logger
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)

	mu      sync.Mutex
	session *mxmpp.Session
	state   LinkState
	wake    chan struct{} // closed when the state changes
}

// NewLink prepares a link; Run starts it.
func NewLink(cfg Config, h mxmpp.Handler, log *slog.Logger) *Link {
	if log == nil {
		log = slog.Default()
	}
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 15 * time.Second}
	return &Link{
		cfg: cfg, handler: h, dial: d.DialContext,
		log:   log.With("component", "xmpp-link", "server", cfg.Server, "domain", cfg.Component),
		state: LinkState{Server: cfg.Server, Since: time.Now()},
		wake:  make(chan struct{}),
	}
}

// Run keeps the link up until ctx ends; it returns ctx's error.
func (l *Link) Run(ctx context.Context) error {
	delay := l.cfg.ReconnectMin
	for first := true; ; first = false {
		start := time.Now()
		err := l.connectAndServe(ctx, first)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		l.setDown(err)
		if time.Since(start) > time.Minute {
			delay = l.cfg.ReconnectMin // it was up for a while: start over
		}
		l.log.Warn("component link down", "err", err, "retry_in", delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, l.cfg.ReconnectMax)
	}
}

func (l *Link) connectAndServe(ctx context.Context, first bool) error {
	addr, err := jid.New("", l.cfg.Component, "")
	if err != nil {
		return fmt.Errorf("xmpp: component domain: %w", err)
	}
	conn, err := l.dial(ctx, "tcp", l.cfg.Server)
	if err != nil {
		return fmt.Errorf("xmpp: dial: %w", err)
	}
	hctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	s, err := component.NewSession(hctx, addr, l.cfg.Secret, conn)
	cancel()
	if err != nil {
		conn.Close()
		return fmt.Errorf("xmpp: handshake: %w", err)
	}
	l.setUp(s, first)
	l.log.Info("component link up")
	stop := context.AfterFunc(ctx, func() { s.Close(); conn.Close() })
	defer stop()
	err = s.Serve(l.handler)
	l.mu.Lock()
	l.session = nil
	l.mu.Unlock()
	s.Close()
	conn.Close()
	if err == nil {
		err = errors.New("stream closed by the server")
	}
	return fmt.Errorf("xmpp: serve: %w", err)
}

// Send writes one stanza (a complete element) on the link. Never call it
// from the handler.
func (l *Link) Send(ctx context.Context, stanza xml.TokenReader) error {
	l.mu.Lock()
	s := l.session
	l.mu.Unlock()
	if s == nil {
		return fmt.Errorf("xmpp: send: %w", ErrNotConnected)
	}
	if err := s.Send(ctx, stanza); err != nil {
		return fmt.Errorf("xmpp: send: %w", err)
	}
	return nil
}

// State reports the link's state.
func (l *Link) State() LinkState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// Changed returns a channel closed at the next state change.
func (l *Link) Changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wake
}

func (l *Link) setUp(s *mxmpp.Session, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.session = s
	l.state.Connected, l.state.Since, l.state.LastError = true, time.Now(), ""
	if !first {
		l.state.Reconnects++
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

func (l *Link) setDown(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.session = nil
	if l.state.Connected || l.state.LastError == "" {
		l.state.Since = time.Now()
	}
	l.state.Connected = false
	if err != nil {
		l.state.LastError = err.Error()
	}
	close(l.wake)
	l.wake = make(chan struct{})
}
