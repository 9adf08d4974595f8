package rawsip

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/parley-rtc/parley/core/auth"
)

// DefaultTimeout bounds a client transaction when Config.Timeout is zero.
const DefaultTimeout = 8 * time.Second

// ErrClosed is returned by transactions running when the UA is closed.
var ErrClosed = errors.New("rawsip: UA closed")

// Config describes one UA.
type Config struct {
	Server         *net.UDPAddr  // where requests go
	User, Password string        // digest credentials
	BranchPrefix   string        // Via branch prefix, "z9hG4bK-" if empty
	UserAgent      string        // User-Agent header value; none if empty
	Timeout        time.Duration // per transaction; DefaultTimeout if zero
	// Handle gets every incoming request, on the read loop, with the UA it
	// came to; it answers with u.WriteTo and Msg.Reply. Nil drops requests.
	Handle func(u *UA, m *Msg, from *net.UDPAddr)
	// Unparsable, when set, sees every datagram Parse refused.
	Unparsable func(data []byte, from *net.UDPAddr, err error)
}

// UA is one user agent on its own UDP socket on 127.0.0.1. Responses go to
// the transaction waiting for their Via branch; several transactions may
// run at once.
type UA struct {
	cfg   Config
	conn  *net.UDPConn
	local string

	mu      sync.Mutex
	waiting map[string]chan *Msg // client transactions by Via branch
	done    chan struct{}
	once    sync.Once
}

// Listen opens the UA's socket and starts its read loop.
func Listen(cfg Config) (*UA, error) {
	if cfg.BranchPrefix == "" {
		cfg.BranchPrefix = "z9hG4bK-"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("rawsip listen: %w", err)
	}
	u := &UA{cfg: cfg, conn: conn, local: conn.LocalAddr().String(),
		waiting: map[string]chan *Msg{}, done: make(chan struct{})}
	go u.read()
	return u, nil
}

// Close closes the socket, ending the read loop and running transactions.
func (u *UA) Close() {
	u.once.Do(func() {
		close(u.done)
		u.conn.Close()
	})
}

// Local is the socket's ip:port.
func (u *UA) Local() string { return u.local }

// User is the configured user name.
func (u *UA) User() string { return u.cfg.User }

// WriteTo sends one datagram from the UA's socket.
func (u *UA) WriteTo(data []byte, to *net.UDPAddr) error {
	if _, err := u.conn.WriteToUDP(data, to); err != nil {
		return fmt.Errorf("rawsip write to %v: %w", to, err)
	}
	return nil
}

func (u *UA) read() {
	buf := make([]byte, 65536)
	for {
		n, from, err := u.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		now := time.Now()
		m, err := Parse(buf[:n])
		if err != nil {
			if u.cfg.Unparsable != nil {
				u.cfg.Unparsable(append([]byte(nil), buf[:n]...), from, err)
			}
			continue
		}
		m.Arrived = now
		if !m.IsResponse() {
			if u.cfg.Handle != nil {
				u.cfg.Handle(u, m, from)
			}
			continue
		}
		u.mu.Lock()
		ch := u.waiting[m.Branch()]
		u.mu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default:
			}
		}
	}
}

// Send runs one client transaction and, unless r.NoAuth, answers a 401 or
// 407 once with digest credentials; it returns the final response.
func (u *UA) Send(ctx context.Context, r *Request) (*Msg, error) {
	res, err := u.Transaction(ctx, r)
	if err != nil || r.NoAuth || (res.Code != 401 && res.Code != 407) {
		return res, err
	}
	hdr, name := "WWW-Authenticate", "Authorization"
	if res.Code == 407 {
		hdr, name = "Proxy-Authenticate", "Proxy-Authorization"
	}
	cred, err := DigestAnswer(res.Header(hdr), r.Method, r.RURI, u.cfg.User, u.cfg.Password)
	if err != nil {
		return res, fmt.Errorf("%s %q: %w", hdr, res.Header(hdr), err)
	}
	r.Authorization = name + ": " + cred
	return u.Transaction(ctx, r)
}

// Transaction sends r under a fresh branch, retransmitting like RFC 3261's
// timer E (500 ms doubling, 4 s cap; after a provisional response only
// INVITE is retransmitted) until a final response or the UA's timeout. On a
// final response r.CSeq is advanced past the one used.
func (u *UA) Transaction(ctx context.Context, r *Request) (*Msg, error) {
	branch := u.cfg.BranchPrefix + RandHex(8)
	ch := make(chan *Msg, 16)
	u.mu.Lock()
	u.waiting[branch] = ch
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		delete(u.waiting, branch)
		u.mu.Unlock()
	}()
	data := []byte(r.Text(fmt.Sprintf("SIP/2.0/UDP %s;branch=%s;rport", u.local, branch), u.cfg.UserAgent))
	deadline := time.NewTimer(u.cfg.Timeout)
	defer deadline.Stop()
	interval := 500 * time.Millisecond
	retrans := time.NewTimer(interval)
	defer retrans.Stop()
	provisional := false
	for {
		if !provisional || r.Method == "INVITE" {
			if err := u.WriteTo(data, u.cfg.Server); err != nil {
				return nil, err
			}
		}
		for again := false; !again; {
			select {
			case m := <-ch:
				if m.Code >= 200 {
					r.CSeq++
					return m, nil
				}
				provisional = true
			case <-retrans.C:
				interval = min(2*interval, 4*time.Second)
				retrans.Reset(interval)
				again = true
			case <-deadline.C:
				return nil, fmt.Errorf("%s %s: no final response within %v", r.Method, r.RURI, u.cfg.Timeout)
			case <-ctx.Done():
				return nil, fmt.Errorf("%s %s: %w", r.Method, r.RURI, ctx.Err())
			case <-u.done:
				return nil, ErrClosed
			}
		}
	}
}

// DigestAnswer answers a digest challenge (core/auth's client side).
func DigestAnswer(challenge, method, uri, user, password string) (string, error) {
	return auth.Answer(challenge, method, uri, user, password)
}

// RandHex is n random bytes in hex, for tags, branches and Call-IDs.
func RandHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
