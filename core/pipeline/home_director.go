package pipeline

import (
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/router"
)

// The director role (docs/architecture.md, "Directors"): a director holds
// no bindings. It answers an authenticated REGISTER with 302 Moved
// Temporarily whose Contact is the user's home node, as LCS does ("returns
// the address of the user's home server ... in the form of a maddr
// parameter"), and routes every other request like any node: to the best
// binding cluster-wide, through its home node's cluster link.

// AssignHome is router.AssignHome (the assignment rule, core/router's
// assign.go), kept here for the node's and interop tests' callers.
func AssignHome(aor, override string, members []state.Member, down func(string) bool) (state.Member, bool) {
	return router.AssignHome(aor, override, members, down)
}

// redirectRegister answers a REGISTER on a director with 302 to the
// user's home node.
func (p *Pipeline) redirectRegister(c *call, aor string) {
	usr, ok := p.cfg.State.User(aor)
	if !ok || !usr.Enabled {
		p.respond(c, 404, "Not Found")
		return
	}
	m, ok := router.AssignHome(aor, usr.Home, p.cfg.State.Members(), p.cfg.Location.HomeDown)
	if !ok {
		p.respond(c, 503, "Service Unavailable (no home node reachable)", retryAfter(5))
		return
	}
	contact, ok := homeContact(m, c.in.Scheme, c.req.Recipient.Host)
	if !ok {
		p.respond(c, 503, "Service Unavailable (home node has no listener)", retryAfter(5))
		return
	}
	p.respond(c, 302, "Moved Temporarily", &sip.ContactHeader{Address: contact})
}

// homeContact is the URI a client registers at on member m: the
// registrar's domain, with the port and maddr of m's client listener of
// the scheme the client used (else its first one) and that transport.
func homeContact(m state.Member, scheme, domain string) (sip.Uri, bool) {
	listen := strings.Split(m.SIPListen, ",")
	pick := listen[0]
	for _, l := range listen {
		if strings.HasPrefix(l, scheme+"://") {
			pick = l
			break
		}
	}
	sch, hp, ok := strings.Cut(pick, "://")
	host, port, err := net.SplitHostPort(hp)
	pn, perr := strconv.Atoi(port)
	if !ok || err != nil || perr != nil {
		return sip.Uri{}, false
	}
	params := sip.NewParams()
	params.Add("maddr", host)
	if sch != "udp" {
		params.Add("transport", sch)
	}
	u := sip.Uri{Scheme: "sip", Host: domain, Port: pn, UriParams: params}
	if sch == "tls" || sch == "wss" {
		u.Scheme = "sips"
	}
	return u, true
}

// isMemberAddress reports whether host:port is a client listener of a
// cluster member (port 0: any of its listeners on that host).
func (p *Pipeline) isMemberAddress(host string, port int) bool {
	host = strings.Trim(host, "[]")
	for _, m := range p.cfg.State.Members() {
		for _, l := range strings.Split(m.SIPListen, ",") {
			_, hp, _ := strings.Cut(l, "://")
			h, pt, err := net.SplitHostPort(hp)
			if err != nil || !strings.EqualFold(h, host) {
				continue
			}
			if n, _ := strconv.Atoi(pt); port == 0 || n == port {
				return true
			}
		}
	}
	return false
}
