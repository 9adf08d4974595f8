package resolve

import (
	"context"
	"net/netip"
	"sort"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/miekg/dns"
)

// naptrService maps RFC 3263 NAPTR services to transports.
var naptrService = map[string]string{"SIP+D2U": "UDP", "SIP+D2T": "TCP", "SIPS+D2T": "TLS"}

// srvPreference is the order SRV names are tried in when a domain has no
// NAPTR records: TLS first, then TCP, then UDP (RFC 3263 4.1 leaves the
// order to the client).
var srvPreference = []string{"TLS", "TCP", "UDP"}

// Resolve returns the targets for u in the order to try them (RFC 3263
// 4): an IP address or an explicit port goes straight to A/AAAA; an
// explicit transport skips NAPTR; otherwise NAPTR, then SRV, then A/AAAA
// on the host with the default port. A sips URI yields TLS targets only.
func (r *Resolver) Resolve(ctx context.Context, u sip.Uri) ([]Target, error) {
	host := strings.Trim(u.Host, "[]")
	if m, ok := u.UriParams.Get("maddr"); ok && m != "" {
		host = m
	}
	tr := uriTransport(u)
	if _, err := netip.ParseAddr(host); err == nil {
		if tr == "" {
			tr = "UDP"
			if u.IsEncrypted() {
				tr = "TLS"
			}
		}
		port := u.Port
		if port == 0 {
			port = defaultPort(tr)
		}
		return []Target{{Transport: tr, Addr: hostPort(host, port)}}, nil
	}
	if u.Port != 0 {
		if tr == "" {
			tr = "UDP"
			if u.IsEncrypted() {
				tr = "TLS"
			}
		}
		return r.direct(ctx, host, tr, u.Port)
	}
	var out []Target
	var err error
	switch {
	case tr != "":
		out, err = r.srv(ctx, srvName(tr, host), tr)
	default:
		out, err = r.naptr(ctx, host, u.IsEncrypted())
		if err == nil && len(out) == 0 {
			for _, t := range srvPreference {
				if u.IsEncrypted() && t != "TLS" {
					continue
				}
				more, serr := r.srv(ctx, srvName(t, host), t)
				if serr != nil {
					err = serr
					continue
				}
				out = append(out, more...)
			}
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	if tr == "" {
		tr = "UDP"
		if u.IsEncrypted() {
			tr = "TLS"
		}
	}
	out, derr := r.direct(ctx, host, tr, defaultPort(tr))
	if len(out) == 0 && err != nil {
		return nil, err
	}
	return out, derr
}

// direct resolves host to addresses on one port.
func (r *Resolver) direct(ctx context.Context, host, tr string, port int) ([]Target, error) {
	ips, err := r.addrs(ctx, host, nil)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, ErrNoTarget
	}
	out := make([]Target, len(ips))
	for i, ip := range ips {
		out[i] = Target{Transport: tr, Addr: hostPort(ip, port)}
	}
	return out, nil
}

// naptr follows the NAPTR records of host with flag "s" to SRV records,
// in order then preference; only services for our transports count.
func (r *Resolver) naptr(ctx context.Context, host string, secure bool) ([]Target, error) {
	ans, _, err := r.query(ctx, host, dns.TypeNAPTR)
	if err != nil {
		return nil, err
	}
	var recs []*dns.NAPTR
	for _, rr := range ans {
		n, ok := rr.(*dns.NAPTR)
		if !ok || !strings.EqualFold(n.Flags, "s") {
			continue
		}
		tr, ok := naptrService[strings.ToUpper(n.Service)]
		if !ok || (secure && tr != "TLS") {
			continue
		}
		recs = append(recs, n)
	}
	sort.SliceStable(recs, func(i, j int) bool {
		if recs[i].Order != recs[j].Order {
			return recs[i].Order < recs[j].Order
		}
		return recs[i].Preference < recs[j].Preference
	})
	var out []Target
	for _, n := range recs {
		more, err := r.srv(ctx, n.Replacement, naptrService[strings.ToUpper(n.Service)])
		if err != nil {
			continue // try the next record
		}
		out = append(out, more...)
	}
	return out, nil
}

// srv returns the targets of an SRV name: by priority, within a priority
// in weighted random order (RFC 2782), each target's addresses in turn.
func (r *Resolver) srv(ctx context.Context, name, tr string) ([]Target, error) {
	ans, extra, err := r.query(ctx, name, dns.TypeSRV)
	if err != nil {
		return nil, err
	}
	var recs []*dns.SRV
	for _, rr := range ans {
		if s, ok := rr.(*dns.SRV); ok && s.Target != "." {
			recs = append(recs, s)
		}
	}
	var out []Target
	for _, s := range orderSRV(recs, r.rand) {
		ips, err := r.addrs(ctx, strings.TrimSuffix(s.Target, "."), extra)
		if err != nil {
			continue
		}
		for _, ip := range ips {
			out = append(out, Target{Transport: tr, Addr: hostPort(ip, int(s.Port))})
		}
	}
	return out, nil
}

// orderSRV sorts SRV records by priority and, within one priority, picks
// them one at a time with probability proportional to weight (records of
// weight 0 have a small chance, RFC 2782).
func orderSRV(recs []*dns.SRV, pick func(int) int) []*dns.SRV {
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Priority < recs[j].Priority })
	out := make([]*dns.SRV, 0, len(recs))
	for start := 0; start < len(recs); {
		end := start
		for end < len(recs) && recs[end].Priority == recs[start].Priority {
			end++
		}
		group := append([]*dns.SRV(nil), recs[start:end]...)
		// Zero weights first, as RFC 2782 asks, so they keep a chance.
		sort.SliceStable(group, func(i, j int) bool { return group[i].Weight == 0 && group[j].Weight != 0 })
		for len(group) > 0 {
			total := 0
			for _, s := range group {
				total += int(s.Weight)
			}
			i := 0
			if total > 0 {
				n, sum := pick(total+1), 0
				for i = range group {
					sum += int(group[i].Weight)
					if sum >= n {
						break
					}
				}
			}
			out = append(out, group[i])
			group = append(group[:i], group[i+1:]...)
		}
		start = end
	}
	return out
}
