package router

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/proxy"
)

// LocalTarget is where a request for binding b, homed on this node,
// goes (docs/architecture.md, "Where a request for a binding goes"):
// with a Path, through it to the Contact; with Reach contact, to the
// Contact URI; otherwise (flow, outbound) down the REGISTER's flow, to
// its source over its transport. The Request-URI is the Contact.
func LocalTarget(b state.Binding) (proxy.Target, error) {
	var t proxy.Target
	if err := sip.ParseUri(b.Contact, &t.URI); err != nil {
		return t, fmt.Errorf("%w: %w", ErrBadContact, err)
	}
	if path := b.PathURIs(); len(path) > 0 {
		t.Routes = make([]sip.Uri, len(path))
		for i, p := range path {
			if err := sip.ParseUri(p, &t.Routes[i]); err != nil {
				return t, fmt.Errorf("%w: path: %w", ErrBadContact, err)
			}
		}
		t.Dest, t.Transport = uriHop(t.Routes[0])
		return t, nil
	}
	if b.Reach == state.ReachContact {
		t.Dest, t.Transport = uriHop(t.URI)
		return t, nil
	}
	t.Dest, t.Transport = b.Source, b.Transport
	return t, nil
}

// uriHop is the host:port and transport a URI names (maddr wins over the
// host; default port 5060, 5061 for sips).
func uriHop(u sip.Uri) (dest, network string) {
	host := u.Host
	if m, ok := u.UriParams.Get("maddr"); ok && m != "" {
		host = m
	}
	network = "UDP"
	port := u.Port
	if v, ok := u.UriParams.Get("transport"); ok && v != "" {
		network = strings.ToUpper(v)
	}
	if u.IsEncrypted() {
		network = "TLS"
		if port == 0 {
			port = 5061
		}
	}
	if port == 0 {
		port = 5060
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port)), network
}
