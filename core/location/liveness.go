package location

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
)

// Liveness is this node's view of which members it can reach over the
// intra-cluster SIP link. It is local, not replicated: every interval it
// opens a TCP connection to each member's link address (state.Member
// SIPAddr, see ParseLink); a member is down after failThreshold failures in a row, or at
// once when forwarding to it failed (MarkDown), and up again after one
// success. A partitioned node therefore sees the others down, and the
// majority sees it down, which is what routing needs: a binding is
// reachable only through its home node's link.
type Liveness struct {
	st       *state.State
	self     string
	interval time.Duration
	dial     func(ctx context.Context, addr string) error

	mu    sync.Mutex
	fails map[string]int
	down  map[string]bool
}

// failThreshold is how many failed probes in a row make a member down.
const failThreshold = 2

// NewLiveness returns a liveness table for node self over the members in
// st, probing every interval.
func NewLiveness(st *state.State, self string, interval time.Duration) *Liveness {
	return &Liveness{st: st, self: self, interval: interval, dial: dialTCP,
		fails: make(map[string]int), down: make(map[string]bool)}
}

func dialTCP(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// Down reports whether node is a member this node cannot reach now. This
// node is never down; nor is one never probed (routing to a home without
// a link address answers 480 by itself).
func (l *Liveness) Down(node string) bool {
	if l == nil || node == l.self {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.down[node]
}

// MarkDown records that node could not be reached (a forward failed).
func (l *Liveness) MarkDown(node string) {
	if l == nil || node == l.self {
		return
	}
	l.mu.Lock()
	l.down[node], l.fails[node] = true, failThreshold
	l.mu.Unlock()
}

// Run probes every member until ctx ends.
func (l *Liveness) Run(ctx context.Context) {
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		l.ProbeOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ProbeOnce probes every member once, concurrently, each bounded by the
// probe interval.
func (l *Liveness) ProbeOnce(ctx context.Context) {
	var wg sync.WaitGroup
	for _, m := range l.st.Members() {
		if m.ID == l.self {
			continue
		}
		link, ok := ParseLink(m.SIPAddr)
		if !ok {
			l.record(m.ID, false)
			continue
		}
		addr := link.HostPort
		wg.Add(1)
		go func(id, addr string) {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, l.interval)
			err := l.dial(pctx, addr)
			cancel()
			if ctx.Err() == nil {
				l.record(id, err == nil)
			}
		}(m.ID, addr)
	}
	wg.Wait()
}

func (l *Liveness) record(id string, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ok {
		l.fails[id], l.down[id] = 0, false
		return
	}
	l.fails[id]++
	if l.fails[id] >= failThreshold {
		l.down[id] = true
	}
}

// Link is where a member's intra-cluster SIP link listens.
type Link struct {
	HostPort string // host:port to connect to
	Network  string // sipgo network name: TCP or TLS
}

// ParseLink reads a member's SIPAddr, a SIP URI such as
// "sip:10.0.0.2:5070;transport=tcp" (sips: means TLS).
func ParseLink(sipAddr string) (Link, bool) {
	if sipAddr == "" {
		return Link{}, false
	}
	var u sip.Uri
	if err := sip.ParseUri(sipAddr, &u); err != nil || !validHost(strings.Trim(u.Host, "[]")) {
		return Link{}, false
	}
	l := Link{Network: "TCP"}
	port := u.Port
	if u.IsEncrypted() {
		l.Network = "TLS"
		if port == 0 {
			port = 5061
		}
	} else if v, ok := u.UriParams.Get("transport"); ok && strings.EqualFold(v, "udp") {
		l.Network = "UDP"
	}
	if port == 0 {
		port = 5060
	}
	l.HostPort = net.JoinHostPort(strings.Trim(u.Host, "[]"), strconv.Itoa(port))
	return l, true
}

// validHost accepts an IP address or a DNS name.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, r := range h {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-' && r != '.' {
			return false
		}
	}
	return true
}
