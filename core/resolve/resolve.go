package resolve

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/miekg/dns"
)

// Target is one place to send a request: a sipgo network name and an
// IP address with port.
type Target struct {
	Transport string // UDP, TCP or TLS
	Addr      string // ip:port
}

// ErrNoTarget means DNS names no server for the URI.
var ErrNoTarget = errors.New("resolve: no server found")

// Config tunes a Resolver.
type Config struct {
	// Server is the DNS server, host:port (port 53 when left out); empty
	// reads the first nameserver of ResolvConf.
	Server string
	// ResolvConf is read when Server is empty ("" = /etc/resolv.conf).
	ResolvConf string
	// Timeout bounds each query (default 2 s).
	Timeout time.Duration
	// Rand picks an int in [0, n) for SRV weights (default math/rand).
	Rand func(n int) int
}

// Resolver runs RFC 3263 lookups against one DNS server.
type Resolver struct {
	server string
	udp    *dns.Client
	tcp    *dns.Client
	rand   func(int) int
}

// New returns a resolver.
func New(cfg Config) (*Resolver, error) {
	server := cfg.Server
	if server == "" {
		path := cfg.ResolvConf
		if path == "" {
			path = "/etc/resolv.conf"
		}
		cc, err := dns.ClientConfigFromFile(path)
		if err != nil {
			return nil, fmt.Errorf("resolve: read %s: %w", path, err)
		}
		if len(cc.Servers) == 0 {
			return nil, fmt.Errorf("resolve: %s names no nameserver", path)
		}
		server = net.JoinHostPort(cc.Servers[0], cc.Port)
	}
	if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(strings.Trim(server, "[]"), "53")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	r := &Resolver{server: server, rand: cfg.Rand,
		udp: &dns.Client{Net: "udp", Timeout: timeout}, tcp: &dns.Client{Net: "tcp", Timeout: timeout}}
	if r.rand == nil {
		r.rand = rand.IntN
	}
	return r, nil
}

// Server is the DNS server queried.
func (r *Resolver) Server() string { return r.server }

// query asks one question; a truncated UDP answer is asked again over TCP.
// A name that does not exist is an empty answer, not an error.
func (r *Resolver) query(ctx context.Context, name string, qtype uint16) ([]dns.RR, []dns.RR, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	in, _, err := r.udp.ExchangeContext(ctx, m, r.server)
	if err == nil && in.Truncated {
		in, _, err = r.tcp.ExchangeContext(ctx, m, r.server)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("resolve: %s %s: %w", dns.TypeToString[qtype], name, err)
	}
	switch in.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
		return in.Answer, in.Extra, nil
	}
	return nil, nil, fmt.Errorf("resolve: %s %s: %s", dns.TypeToString[qtype], name, dns.RcodeToString[in.Rcode])
}

// addrs returns the A, then AAAA, addresses of host; extra holds records
// already received in an additional section.
func (r *Resolver) addrs(ctx context.Context, host string, extra []dns.RR) ([]string, error) {
	var out []string
	fq := dns.Fqdn(host)
	for _, rr := range extra {
		if a, ok := rr.(*dns.A); ok && strings.EqualFold(a.Hdr.Name, fq) {
			out = append(out, a.A.String())
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	var firstErr error
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		ans, _, err := r.query(ctx, host, qt)
		if err != nil {
			firstErr = err
			continue
		}
		for _, rr := range ans {
			switch v := rr.(type) {
			case *dns.A:
				out = append(out, v.A.String())
			case *dns.AAAA:
				out = append(out, v.AAAA.String())
			}
		}
	}
	if len(out) == 0 && firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

func defaultPort(transport string) int {
	if transport == "TLS" {
		return 5061
	}
	return 5060
}

// srvName is the SRV owner name for a transport (RFC 3263 4.1).
func srvName(transport, host string) string {
	switch transport {
	case "TLS":
		return "_sips._tcp." + host
	case "TCP":
		return "_sip._tcp." + host
	}
	return "_sip._udp." + host
}

func hostPort(ip string, port int) string { return net.JoinHostPort(ip, strconv.Itoa(port)) }

// uriTransport is the transport a URI names: its transport parameter,
// TLS for sips, "" when it leaves the choice to DNS.
func uriTransport(u sip.Uri) string {
	if v, ok := u.UriParams.Get("transport"); ok && v != "" {
		t := strings.ToUpper(v)
		if u.IsEncrypted() && t == "TCP" {
			return "TLS"
		}
		return t
	}
	return ""
}
