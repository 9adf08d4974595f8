package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
)

// Trust is a listener's trust class.
type Trust uint8

// Trust classes (see docs/architecture.md).
const (
	Client  Trust = iota // untrusted end users: authenticated, throttled
	Server               // mutual TLS peers that are servers
	Trusted              // operator-vouched addresses (gateways without MTLS)
	// Cluster is the intra-cluster SIP link (config cluster-sip): only
	// members may use it; the pipeline checks each request's source.
	// It is not a value of ?trust=.
	Cluster
	// Link is the SIP link for plugins that are user agents (config
	// plugin-link): a loopback listener whose requests must carry a
	// running plugin's credential (the pipeline checks it). It is not a
	// value of ?trust=, and never chosen for traffic to anyone else.
	Link
)

func (t Trust) String() string {
	switch t {
	case Server:
		return "server"
	case Trusted:
		return "trusted"
	case Cluster:
		return "cluster"
	case Link:
		return "link"
	}
	return "client"
}

// ParseTrust reads "client", "server" or "trusted" ("" means client).
func ParseTrust(s string) (Trust, error) {
	switch strings.ToLower(s) {
	case "", "client":
		return Client, nil
	case "server":
		return Server, nil
	case "trusted":
		return Trusted, nil
	}
	return Client, fmt.Errorf("transport: unknown trust class %q", s)
}

// Spec describes one listener to open.
type Spec struct {
	Scheme string // udp, tcp, tls, ws, wss
	Host   string
	Port   int
	Trust  Trust
	TLS    *tls.Config // for tls and wss; ServerTLS for trust=server
}

// Listener is one open listener.
type Listener struct {
	Spec
	Network   string // sipgo network name: UDP, TCP, TLS, WS, WSS
	Bound     string // actual local host:port (port 0 resolved)
	Advertise string // host put into Via and Record-Route
	Port      int    // actual port
	// Packet is a UDP listener's socket, for responses the pipeline sends
	// itself (retransmissions of stateless answers); nil otherwise.
	Packet net.PacketConn
	closer func() error
	id     int // names the listener in arrival marks (arrival.go)
}

// Set is the open listeners of a node.
type Set struct {
	mu        sync.Mutex
	list      []*Listener
	log       *slog.Logger
	intercept Interceptor
	arrival   string // header name of arrival marks (arrival.go)
	ids       int
}

// ErrNoListener is returned when no listener serves a transport.
var ErrNoListener = errors.New("transport: no listener for transport")

// NewSet returns an empty set; the pipeline can be wired to it before
// any listener serves.
func NewSet(log *slog.Logger) *Set { return &Set{log: log, arrival: arrivalName()} }

// Open binds every spec synchronously, so a busy port fails start-up with
// a clear error, then serves them on srv in the background until Close.
// advertise, when non-empty, replaces the bound host in Via/Record-Route.
// Register srv's handlers before calling Open.
func (s *Set) Open(ctx context.Context, srv *sipgo.Server, specs []Spec, advertise string) error {
	for _, sp := range specs {
		l, serve, err := s.open(ctx, srv, sp, advertise)
		if err != nil {
			s.Close()
			return err
		}
		s.mu.Lock()
		s.list = append(s.list, l)
		s.mu.Unlock()
		go func() {
			if err := serve(); err != nil && !errors.Is(err, net.ErrClosed) {
				s.log.Error("sip listener stopped", "transport", l.Network, "addr", l.Bound, "error", err)
			}
		}()
		s.log.Info("sip listener open", "transport", l.Network, "addr", l.Bound, "trust", l.Trust.String())
	}
	return nil
}

func (s *Set) open(ctx context.Context, srv *sipgo.Server, sp Spec, advertise string) (*Listener, func() error, error) {
	addr := net.JoinHostPort(sp.Host, strconv.Itoa(sp.Port))
	s.mu.Lock()
	s.ids++
	l := &Listener{Spec: sp, Network: strings.ToUpper(sp.Scheme), id: s.ids}
	s.mu.Unlock()
	var serve func() error
	switch sp.Scheme {
	case "udp":
		pcs, err := listenUDP(ctx, addr, udpSockets())
		if err != nil {
			return nil, nil, err
		}
		l.Bound, l.Packet = pcs[0].LocalAddr().String(), pcs[0]
		l.closer = func() error {
			for _, pc := range pcs {
				_ = pc.Close()
			}
			return nil
		}
		serve = func() error {
			errs := make(chan error, len(pcs))
			s.mu.Lock()
			f := s.intercept
			s.mu.Unlock()
			mark := s.arrivalMark(l.id)
			for _, pc := range pcs {
				rc := &interceptConn{PacketConn: pc, l: l, f: f, mark: mark, log: s.log}
				go func() { errs <- srv.ServeUDP(rc) }()
			}
			return <-errs
		}
	case "tcp", "ws", "tls", "wss":
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("transport: listen %s %s: %w", sp.Scheme, addr, err)
		}
		if sp.Scheme == "tls" || sp.Scheme == "wss" {
			if sp.TLS == nil {
				ln.Close()
				return nil, nil, fmt.Errorf("transport: %s listener %s needs a certificate (tls-cert, tls-key)", sp.Scheme, addr)
			}
			ln = tls.NewListener(ln, sp.TLS)
		}
		l.Bound, l.closer = ln.Addr().String(), ln.Close
		switch sp.Scheme {
		case "tcp":
			serve = func() error { return srv.ServeTCP(ln) }
		case "tls":
			serve = func() error { return srv.ServeTLS(ln) }
		case "ws":
			serve = func() error { return srv.ServeWS(ln) }
		default:
			serve = func() error { return srv.ServeWSS(ln) }
		}
	default:
		return nil, nil, fmt.Errorf("transport: unknown scheme %q", sp.Scheme)
	}
	host, port, _ := net.SplitHostPort(l.Bound)
	l.Port, _ = strconv.Atoi(port)
	l.Advertise = advertise
	if l.Advertise == "" {
		l.Advertise = host
	}
	return l, serve, nil
}

// listenUDP opens n sockets on addr sharing its port (SO_REUSEPORT); with
// port 0 the first picks the port.
func listenUDP(ctx context.Context, addr string, n int) ([]net.PacketConn, error) {
	lc := net.ListenConfig{Control: reusePort}
	var pcs []net.PacketConn
	for i := 0; i < n; i++ {
		pc, err := lc.ListenPacket(ctx, "udp", addr)
		if err != nil {
			for _, p := range pcs {
				_ = p.Close()
			}
			return nil, fmt.Errorf("transport: listen udp %s: %w", addr, err)
		}
		if uc, ok := pc.(*net.UDPConn); ok {
			_ = uc.SetReadBuffer(4 << 20) // absorb bursts; kernel caps it at rmem_max
		}
		pcs = append(pcs, pc)
		addr = pc.LocalAddr().String() // the others join the first's port
	}
	return pcs, nil
}

// Close closes every listener.
func (s *Set) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.list {
		if l.closer != nil {
			_ = l.closer()
		}
	}
	s.list = nil
}

// All returns the open listeners.
func (s *Set) All() []*Listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Listener(nil), s.list...)
}
