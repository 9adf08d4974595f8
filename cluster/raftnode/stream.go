package raftnode

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Stream kinds: the first byte a dialer sends on a connection to the raft
// port, after the TLS handshake when the cluster has TLS. Raft RPCs and
// forwarded requests (writes, membership changes, read indexes) share the
// port, so they share the cluster's identity too.
const (
	streamRaft    byte = 'R'
	streamForward byte = 'F'
)

// handshakeTimeout bounds the TLS handshake and the kind byte of an
// accepted connection.
const handshakeTimeout = 5 * time.Second

// muxLayer is raft's StreamLayer over one TCP listener, optionally mutual
// TLS, that hands forwarded-request connections to a second listener.
type muxLayer struct {
	ln     net.Listener
	tls    *tls.Config // nil: plain TCP
	log    *slog.Logger
	raft   *chanListener
	fwd    *chanListener
	faults func(addr string) bool // tests: true cuts traffic to addr
	once   sync.Once
	wg     sync.WaitGroup // the accept loop and its handshakes; Close waits
}

var _ raft.StreamLayer = (*muxLayer)(nil)

func newMuxLayer(bind string, tlsCfg *tls.Config, log *slog.Logger, faults func(string) bool) (*muxLayer, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("raftnode: listen %s: %w", bind, err)
	}
	m := &muxLayer{ln: ln, tls: tlsCfg, log: log, faults: faults,
		raft: newChanListener(ln.Addr()), fwd: newChanListener(ln.Addr())}
	m.wg.Go(m.acceptLoop)
	return m, nil
}

func (m *muxLayer) acceptLoop() {
	for {
		c, err := m.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			m.raft.close()
			m.fwd.close()
			return
		}
		m.wg.Go(func() { m.route(c) }) // from the tracked loop: wg is not idle
	}
}

// route finishes the handshake of an accepted connection and hands it to
// raft or to the forwarding server by its kind byte.
func (m *muxLayer) route(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	if m.tls != nil {
		tc := tls.Server(c, m.tls)
		if err := tc.Handshake(); err != nil {
			m.log.Warn("refused cluster connection", "remote", c.RemoteAddr().String(), "error", err)
			c.Close()
			return
		}
		c = tc
	}
	kind := make([]byte, 1)
	if _, err := c.Read(kind); err != nil {
		c.Close()
		return
	}
	_ = c.SetDeadline(time.Time{})
	switch kind[0] {
	case streamRaft:
		m.raft.deliver(c)
	case streamForward:
		m.fwd.deliver(c)
	default:
		m.log.Warn("unknown cluster stream kind", "remote", c.RemoteAddr().String(), "kind", kind[0])
		c.Close()
	}
}

// Accept, Close and Addr make the layer raft's listener.
func (m *muxLayer) Accept() (net.Conn, error) { return m.raft.Accept() }
func (m *muxLayer) Addr() net.Addr            { return m.ln.Addr() }
func (m *muxLayer) Close() error {
	var err error
	m.once.Do(func() {
		err = m.ln.Close()
		m.raft.close()
		m.fwd.close()
	})
	m.wg.Wait() // handshakes in progress end within handshakeTimeout
	m.raft.wait()
	m.fwd.wait()
	return err
}

// Dial opens a raft stream to address.
func (m *muxLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return m.dial(string(address), streamRaft, timeout)
}

// dial connects to a member's raft port and announces the stream kind.
func (m *muxLayer) dial(addr string, kind byte, timeout time.Duration) (net.Conn, error) {
	if m.faults != nil && m.faults(addr) {
		return nil, fmt.Errorf("raftnode: dial %s: %w", addr, errPartitioned)
	}
	d := net.Dialer{Timeout: timeout}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if m.tls != nil {
		tc := tls.Client(c, m.tls)
		_ = tc.SetDeadline(time.Now().Add(timeout))
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, fmt.Errorf("raftnode: tls handshake with %s: %w", addr, err)
		}
		_ = tc.SetDeadline(time.Time{})
		c = tc
	}
	if _, err := c.Write([]byte{kind}); err != nil {
		c.Close()
		return nil, err
	}
	if m.faults != nil {
		c = &faultConn{Conn: c, cut: func() bool { return m.faults(addr) }}
	}
	return c, nil
}

// errPartitioned is what a connection cut by a test fault returns.
var errPartitioned = errors.New("partitioned (test fault)")

// faultConn fails reads and writes while its peer is cut off, so a test
// partition also breaks connections opened before it.
type faultConn struct {
	net.Conn
	cut func() bool
}

func (c *faultConn) Read(p []byte) (int, error) {
	if c.cut() {
		c.Conn.Close()
		return 0, errPartitioned
	}
	return c.Conn.Read(p)
}

func (c *faultConn) Write(p []byte) (int, error) {
	if c.cut() {
		c.Conn.Close()
		return 0, errPartitioned
	}
	return c.Conn.Write(p)
}

// chanListener is a net.Listener fed by the accept loop.
type chanListener struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once

	mu      sync.Mutex
	idle    *sync.Cond // signalled when waiting drops to 0
	waiting int        // Accept calls in progress (raft's and the forward server's loops)
}

func newChanListener(addr net.Addr) *chanListener {
	l := &chanListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
	l.idle = sync.NewCond(&l.mu)
	return l
}

// wait returns once no Accept call is in progress; after close, every
// new one returns at once.
func (l *chanListener) wait() {
	l.mu.Lock()
	for l.waiting > 0 {
		l.idle.Wait()
	}
	l.mu.Unlock()
}

func (l *chanListener) deliver(c net.Conn) {
	select {
	case l.ch <- c:
	case <-l.done:
		c.Close()
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	l.waiting++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		if l.waiting--; l.waiting == 0 {
			l.idle.Broadcast()
		}
		l.mu.Unlock()
	}()
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) close()         { l.once.Do(func() { close(l.done) }) }
func (l *chanListener) Close() error   { l.close(); return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }
