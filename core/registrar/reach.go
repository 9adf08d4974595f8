package registrar

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/location"
	"github.com/parley-rtc/parley/core/siputil"
)

// Where requests for a binding go (docs/architecture.md, "Where a
// request for a binding goes"). The registrar decides once, when the
// binding is registered, and stores the decision (Binding.Reach):
//
//   - Path (RFC 3327) from a trusted source: through the Path, to the
//     Contact (the proxy that inserted it holds the flow).
//   - The UA asked for outbound (RFC 5626: +sip.instance and reg-id in
//     the Contact, "outbound" in Supported or Require): the flow, and the
//     200 carries Require: outbound.
//   - A connection-oriented transport (TCP, TLS, WS, WSS): the flow, the
//     only way to reach a client that connected to us.
//   - UDP, with `always-flow`: the flow.
//   - UDP and NAT detected: the flow. NAT is the top Via's sent-by
//     differing from the source address, or a Contact on a private or
//     otherwise unroutable address while the source differs from it
//     (Kamailio's nat_uac_test 1 and 2).
//   - UDP, a Contact that names a DNS host: the flow (we could not check
//     where it points: see refuse).
//   - Otherwise the Contact, when it differs from the source: a
//     third-party registration, or a UA that registers from an
//     ephemeral port and listens on another.

// ErrRefusedContact marks a Contact we must never send to.
var ErrRefusedContact = errors.New("registrar: contact refused")

// reachOf decides b.Reach for contact c registered by in; outbound is
// whether the UA asked for RFC 5626 outbound for this contact.
func (r *Registrar) reachOf(c *sip.ContactHeader, in Request, outbound bool, path []string) state.Reach {
	switch {
	case len(path) > 0 && !outbound:
		return state.ReachContact
	case outbound:
		return state.ReachOutbound
	case !strings.EqualFold(in.Flow.Transport, "UDP") || r.cfg.AlwaysFlow:
		return state.ReachFlow
	}
	src, err := netip.ParseAddrPort(in.Flow.Source)
	if err != nil {
		return state.ReachFlow
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	if natVia(in.Req, src) {
		return state.ReachFlow
	}
	dst, ok := contactAddr(c.Address)
	if !ok || dst == src {
		return state.ReachFlow // a DNS name, or the same address: the flow is the Contact
	}
	if unroutable(dst.Addr(), src.Addr()) {
		return state.ReachFlow
	}
	return state.ReachContact
}

// natVia reports whether the top Via's sent-by differs from the source
// (the UA wrote an address it is not seen from).
func natVia(req *sip.Request, src netip.AddrPort) bool {
	v := req.Via()
	if v == nil {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(v.Host, "[]"))
	if err != nil {
		return true // a name in sent-by: we cannot compare, assume NAT
	}
	port := v.Port
	if port == 0 {
		port = 5060
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)) != src
}

// contactAddr is the IP and port a contact URI names (maddr wins over
// the host); ok is false for a DNS name.
func contactAddr(u sip.Uri) (netip.AddrPort, bool) {
	host := u.Host
	if m, ok := u.UriParams.Get("maddr"); ok && m != "" {
		host = m
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return netip.AddrPort{}, false
	}
	port := u.Port
	if port == 0 {
		port = 5060
		if u.IsEncrypted() {
			port = 5061
		}
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)), true
}

// cgnat is RFC 6598's shared address space, private like RFC 1918.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// unroutable reports whether a contact on ip cannot be reached from
// where src is: a private (RFC 1918, RFC 4193, RFC 6598) or link-local
// address, or loopback when the source is not.
func unroutable(ip, src netip.Addr) bool {
	switch {
	case ip.IsPrivate(), cgnat.Contains(ip), ip.IsLinkLocalUnicast():
		return true
	case ip.IsLoopback():
		return !src.IsLoopback()
	}
	return false
}

// refuse says why a Contact must not be registered ("" when it may):
// one that would make us send to ourselves or to many (our listeners,
// the cluster link or any member's addresses, multicast, broadcast, the
// unspecified address).
func (r *Registrar) refuse(u sip.Uri) string {
	host := u.Host
	if m, ok := u.UriParams.Get("maddr"); ok && m != "" {
		host = m
	}
	host = strings.Trim(host, "[]")
	port := u.Port
	if r.cfg.Own != nil && r.cfg.Own(host, port) {
		return "contact is this server"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	ip = ip.Unmap()
	switch {
	case ip.IsMulticast():
		return "multicast contact"
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "broadcast contact"
	case ip.IsUnspecified():
		return "unspecified contact address"
	}
	if port == 0 {
		port = 5060
	}
	ap := netip.AddrPortFrom(ip, uint16(port))
	if _, ok := r.memberView().addrs[ap]; ok {
		return "contact is a cluster member"
	}
	return ""
}

// memberView is what a REGISTER needs from the member table: every
// member's addresses (refuse) and the cluster's log version (binding),
// derived once per change of the table (state.MembersGen) instead of
// listing, sorting and parsing the members on every REGISTER.
type memberView struct {
	gen        uint64
	addrs      map[netip.AddrPort]struct{}
	logVersion int
}

// memberView returns the view of the current member table.
func (r *Registrar) memberView() *memberView {
	gen := r.st.MembersGen() // read first: a change after it makes the next call derive again
	if v := r.members.Load(); v != nil && v.gen == gen {
		return v
	}
	v := &memberView{gen: gen, addrs: map[netip.AddrPort]struct{}{}, logVersion: r.st.ClusterLogVersion(r.cfg.Node)}
	for _, m := range r.st.Members() {
		for _, a := range memberAddrs(m) {
			v.addrs[a] = struct{}{}
		}
	}
	r.members.Store(v)
	return v
}

// memberAddrs lists the IP addresses a member serves on: its raft port,
// its cluster link and its client listeners.
func memberAddrs(m state.Member) []netip.AddrPort {
	var out []netip.AddrPort
	add := func(hp string) {
		if ap, err := netip.ParseAddrPort(hp); err == nil {
			out = append(out, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
		}
	}
	add(m.RaftAddr)
	if l, ok := location.ParseLink(m.SIPAddr); ok {
		add(l.HostPort)
	}
	for _, s := range strings.Split(m.SIPListen, ",") {
		if l, ok := location.ParseLink(strings.TrimSpace(s)); ok {
			add(l.HostPort)
		}
	}
	return out
}

// asksOutbound reports whether the REGISTER asks for RFC 5626 outbound
// for contact c: +sip.instance and reg-id in the Contact, "outbound" in
// Supported or Require, and (with a Path) a first hop that supports it
// (its URI carries ob; RFC 5626 6).
func asksOutbound(req *sip.Request, c *sip.ContactHeader, path []string) bool {
	if !c.Params.Has("+sip.instance") || !c.Params.Has("reg-id") {
		return false
	}
	if !hasOption(req, "Supported", "outbound") && !hasOption(req, "Require", "outbound") {
		return false
	}
	if len(path) > 0 {
		var u sip.Uri
		return sip.ParseUri(path[0], &u) == nil && u.UriParams.Has("ob")
	}
	return true
}

// hasOption reports whether an option tag is listed in header name.
func hasOption(req *sip.Request, name, tag string) bool {
	for _, h := range siputil.Headers(req, name) {
		for _, t := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(t), tag) {
				return true
			}
		}
	}
	return false
}

// paths returns the Path URIs of a REGISTER from a trusted source
// (RFC 3327; a client's Path is ignored: it could route other users'
// requests anywhere), first hop first, each without its angle brackets.
func paths(req *sip.Request, trusted bool) ([]string, error) {
	if !trusted {
		return nil, nil
	}
	var out []string
	for _, h := range siputil.Headers(req, "Path") {
		for _, v := range splitList(h.Value()) {
			v = strings.TrimSpace(v)
			v = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")
			var u sip.Uri
			if err := sip.ParseUri(v, &u); err != nil || u.Host == "" {
				return nil, errors.New("Path " + strconv.Quote(v))
			}
			out = append(out, v)
		}
	}
	if len(out) > maxPath {
		return nil, errors.New("more than " + strconv.Itoa(maxPath) + " Path entries")
	}
	return out, nil
}

// maxPath bounds a stored Path.
const maxPath = 8

// splitList splits a header value at commas outside angle brackets and
// quotes.
func splitList(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case '<':
			if !quoted {
				depth++
			}
		case '>':
			if !quoted && depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 && !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
