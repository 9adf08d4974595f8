package transport

import (
	"log/slog"
	"net"
)

// Interceptor sees every datagram a UDP listener receives before sipgo
// does (parsing, transactions). It returns true when it has dealt with the
// datagram itself, answering through w (the listener's socket) or not at
// all; sipgo then never sees it. It runs on the listener's read loop, so
// it must be quick, and data is only valid until it returns.
//
// This is how parleyd answers requests statelessly (RFC 3261 allows a
// stateless final non-2xx response) without the cost of a sipgo server
// transaction: it wraps the socket sipgo reads, sipgo's public API.
type Interceptor func(l *Listener, data []byte, from net.Addr, w net.PacketConn) bool

// Intercept installs f on the UDP listeners opened from now on. Call it
// before Open.
func (s *Set) Intercept(f Interceptor) {
	s.mu.Lock()
	s.intercept = f
	s.mu.Unlock()
}

// interceptConn is a UDP listener socket as sipgo reads it: reads skip
// what its interceptor took, and requests carry the listener's arrival
// mark (arrival.go).
type interceptConn struct {
	net.PacketConn
	l    *Listener
	f    Interceptor // nil: none installed
	mark []byte
	log  *slog.Logger
}

func (c *interceptConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, from, err := c.PacketConn.ReadFrom(b)
		if err != nil {
			return n, from, err
		}
		if c.f != nil && c.f(c.l, b[:n], from, c.PacketConn) {
			continue
		}
		n, ok := markArrival(b, n, c.mark)
		if !ok {
			// Within a few bytes of the 64 KiB UDP limit: no room for the
			// mark, and no SIP request that size belongs on UDP.
			c.log.Debug("oversized udp request dropped", "from", from, "size", n)
			continue
		}
		return n, from, nil
	}
}
