package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/transport"
)

// The plugins' SIP link (config plugin-link; core/pipeline/link.go): a
// loopback listener over UDP and TCP on one port, handed with a per-start
// credential to every plugin in Configure.

// linkSpecs resolves plugin-link to the UDP and TCP specs of the link
// ("" off: none). Port 0 picks a port free for both transports.
func linkSpecs(addr string) ([]transport.Spec, string, error) {
	if addr == "" {
		return nil, "", nil
	}
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, "", fmt.Errorf("node: plugin-link: %w", err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		return nil, "", fmt.Errorf("node: plugin-link: port %q: %w", ps, err)
	}
	if port == 0 {
		if port, err = freeUDPAndTCP(host); err != nil {
			return nil, "", fmt.Errorf("node: plugin-link: %w", err)
		}
	}
	specs := []transport.Spec{
		{Scheme: "udp", Host: host, Port: port, Trust: transport.Link},
		{Scheme: "tcp", Host: host, Port: port, Trust: transport.Link},
	}
	return specs, net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// freeUDPAndTCP finds a port on host that is free over UDP and TCP (a
// few tries: the kernel picks the TCP port, UDP may hold it already).
func freeUDPAndTCP(host string) (int, error) {
	for range 16 {
		tl, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, err
		}
		port := tl.Addr().(*net.TCPAddr).Port
		ul, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(port)))
		_ = tl.Close()
		if err == nil {
			_ = ul.Close()
			return port, nil
		}
	}
	return 0, errors.New("no port free over both UDP and TCP")
}

// openLink opens the link's listeners (after the client listeners, so
// that they are never a transport's default).
func openLink(ctx context.Context, ls *transport.Set, srv *sipgo.Server, specs []transport.Spec) error {
	if len(specs) == 0 {
		return nil
	}
	return ls.Open(ctx, srv, specs, specs[0].Host)
}

// linkInject sends req into the node's own SIP link over TCP (no size
// limit, one connection kept) and returns the final response: the host
// service behind a plugin's SendRequest without a target. req carries
// the plugin's credential already.
func linkInject(px *proxy.Proxy, ls *transport.Set, addr string) func(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	return func(ctx context.Context, req *sip.Request) (*sip.Response, error) {
		out := ls.LinkFor("TCP")
		if out == nil {
			return nil, errors.New("node: the plugins' SIP link is off (plugin-link)")
		}
		return px.Originate(ctx, req, proxy.Target{URI: req.Recipient, Transport: "TCP", Dest: addr, Out: out, Server: true})
	}
}
