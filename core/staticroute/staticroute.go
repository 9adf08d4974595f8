// Package staticroute answers questions about the replicated static
// routing table (LCS's static routes): which route a Request-URI takes
// (by host or IP, by domain, or by phone-number prefix), whether an IP
// destination is one the table names (so a request may be sent there),
// and whether a source address is a trusted next hop whose requests are
// taken as already authenticated (a PSTN gateway without MTLS).
package staticroute

import (
	"net"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/plugins/contract"
)

// Table reads the static routes of the replicated state. It keeps the
// sorted list until the state reports a change, since every request from
// an untrusted connection asks it whether its source is trusted.
type Table struct {
	st     *state.State
	cached atomic.Pointer[[]state.Route]
}

// New returns the table over st.
func New(st *state.State) *Table {
	t := &Table{st: st}
	st.Observe(func(ch []state.Change) {
		for _, c := range ch {
			if c.Kind == state.RoutesChanged {
				t.cached.Store(nil)
				return
			}
		}
	})
	return t
}

// routes returns the current routes, sorted by priority.
func (t *Table) routes() []state.Route {
	if p := t.cached.Load(); p != nil {
		return *p
	}
	rs := t.st.Routes()
	t.cached.Store(&rs)
	return rs
}

// Match is a route chosen for a Request-URI.
type Match struct {
	Route   state.Route
	NextHop sip.Uri
}

// Lookup returns the route for u: among matching routes the lowest
// priority wins, then the most specific match (longest value).
func (t *Table) Lookup(u sip.Uri) (Match, bool) {
	number := contract.PhoneNumber(u)
	host := strings.ToLower(u.Host)
	var best *state.Route
	for _, r := range t.routes() {
		if !matches(r.Match, host, number) {
			continue
		}
		if best == nil || r.Priority < best.Priority || (r.Priority == best.Priority && len(r.Match) > len(best.Match)) {
			rr := r
			best = &rr
		}
	}
	if best == nil {
		return Match{}, false
	}
	var hop sip.Uri
	if err := sip.ParseUri(best.NextHop, &hop); err != nil {
		return Match{}, false
	}
	return Match{Route: *best, NextHop: hop}, true
}

func matches(m, host, number string) bool {
	kind, val, _ := strings.Cut(m, ":")
	val = strings.ToLower(val)
	switch kind {
	case "host":
		return host != "" && host == val
	case "domain":
		return host != "" && (host == val || strings.HasSuffix(host, "."+val))
	case "phone":
		return number != "" && strings.HasPrefix(number, val)
	}
	return false
}

// NamesIP reports whether the table has a route naming ip, as a host
// match or as a next hop: the seed's "the IP address is compared to
// entries in a static routing table".
func (t *Table) NamesIP(ip string) bool {
	for _, r := range t.routes() {
		if kind, val, _ := strings.Cut(r.Match, ":"); kind == "host" && val == ip {
			return true
		}
		if hopIP(r.NextHop) == ip {
			return true
		}
	}
	return false
}

// TrustedSource reports whether a request that came over network (UDP,
// TCP, ...) from source (host:port) comes from the next hop of a trusted
// route: the same IP and, over UDP, the next hop's port too (a gateway
// sends from its listening port; over TCP and TLS it connects from any
// port). Only next hops given as IP addresses are matched: a name would
// need DNS on every request.
func (t *Table) TrustedSource(network, source string) bool {
	ip, port, err := net.SplitHostPort(source)
	if err != nil {
		return false
	}
	for _, r := range t.routes() {
		if !r.Trusted || hopIP(r.NextHop) != ip {
			continue
		}
		if !strings.EqualFold(network, "UDP") {
			return true
		}
		var hop sip.Uri
		if sip.ParseUri(r.NextHop, &hop) == nil {
			if _, hp, _ := net.SplitHostPort(Dest(hop)); hp == port {
				return true
			}
		}
	}
	return false
}

// hopIP is the IP literal of a next hop URI ("" for names).
func hopIP(nextHop string) string {
	var u sip.Uri
	if err := sip.ParseUri(nextHop, &u); err != nil {
		return ""
	}
	h := strings.Trim(u.Host, "[]")
	if net.ParseIP(h) == nil {
		return ""
	}
	return h
}

// Dest returns the host:port a next hop URI is sent to (maddr wins).
func Dest(u sip.Uri) string {
	host := u.Host
	if m, ok := u.UriParams.Get("maddr"); ok && m != "" {
		host = m
	}
	port := u.Port
	if port == 0 {
		port = 5060
		if u.IsEncrypted() {
			port = 5061
		}
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port))
}
