package transport

import (
	"net"
	"strconv"
	"strings"
)

// ByLocal returns the listener a connection with local address local and
// sipgo network name network belongs to. Wildcard listeners (0.0.0.0, ::)
// match any local host with their port.
func (s *Set) ByLocal(network, local string) *Listener {
	host, port, err := net.SplitHostPort(local)
	if err != nil {
		return nil
	}
	p, _ := strconv.Atoi(port)
	s.mu.Lock()
	defer s.mu.Unlock()
	var wild *Listener
	for _, l := range s.list {
		if !strings.EqualFold(l.Network, network) || l.Port != p {
			continue
		}
		lh, _, _ := net.SplitHostPort(l.Bound)
		if lh == host {
			return l
		}
		if ip := net.ParseIP(lh); ip != nil && ip.IsUnspecified() {
			wild = l
		}
	}
	return wild
}

// For returns the first listener of a sipgo network name (UDP, TCP, ...),
// never the plugins' SIP link (which is chosen by name: LinkFor).
func (s *Set) For(network string) (*Listener, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.list {
		if l.Trust != Link && strings.EqualFold(l.Network, network) {
			return l, nil
		}
	}
	return nil, ErrNoListener
}

// IsOwn reports whether host:port names one of our listeners. Port 0
// means the default port of the transport family (5060, or 5061 for TLS).
func (s *Set) IsOwn(host string, port int) bool {
	host = strings.Trim(host, "[]")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.list {
		want := port
		if want == 0 {
			want = 5060
			if l.Scheme == "tls" || l.Scheme == "wss" {
				want = 5061
			}
		}
		if l.Port != want {
			continue
		}
		lh, _, _ := net.SplitHostPort(l.Bound)
		if strings.EqualFold(host, l.Advertise) || host == lh {
			return true
		}
		if ip := net.ParseIP(lh); ip != nil && ip.IsUnspecified() {
			if hip := net.ParseIP(host); hip != nil && (hip.IsLoopback() || isLocalIP(hip)) {
				return true
			}
		}
	}
	return false
}

func isLocalIP(ip net.IP) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// LinkFor returns the plugins' SIP link listener of a sipgo network name
// (UDP or TCP), nil when there is none.
func (s *Set) LinkFor(network string) *Listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.list {
		if l.Trust == Link && strings.EqualFold(l.Network, network) {
			return l
		}
	}
	return nil
}
