package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// cluster-sip's special values. The default, auto, derives the link's
// address from raft-listen: the same host, and the raft port + 1 (7061
// beside the default 7060; raft port 0, any free port, gives link port 0
// too). Off ("off", or an explicit empty value) runs no link: the node's
// bindings cannot be reached from other members.
const (
	ClusterSIPAuto = "auto"
	ClusterSIPOff  = "off"
)

// ErrClusterSIPDerive is why cluster-sip auto has no address.
var ErrClusterSIPDerive = errors.New("cannot derive the cluster link from raft-listen")

// ClusterLink returns the address (host:port) the intra-cluster SIP link
// listens on, "" when the link is off or cannot be derived (Validate
// reports why).
func (c Config) ClusterLink() string {
	addr, _, err := c.clusterLink()
	if err != nil {
		return ""
	}
	return addr
}

// clusterLink resolves cluster-sip: the address as configured, or
// derived from raft-listen (derived true), or "" when off.
func (c Config) clusterLink() (addr string, derived bool, err error) {
	switch v := strings.TrimSpace(c.ClusterSIP); strings.ToLower(v) {
	case "", ClusterSIPOff:
		return "", false, nil
	case ClusterSIPAuto:
		host, port, err := net.SplitHostPort(c.RaftListen)
		if err != nil {
			return "", true, fmt.Errorf("%w: %q is not host:port", ErrClusterSIPDerive, c.RaftListen)
		}
		n, err := strconv.Atoi(port)
		if err != nil || n < 0 || n >= 65535 {
			return "", true, fmt.Errorf("%w: raft port %q leaves no port above it; set cluster-sip", ErrClusterSIPDerive, port)
		}
		if n > 0 {
			n++
		}
		return net.JoinHostPort(host, strconv.Itoa(n)), true, nil
	default:
		return v, false, nil
	}
}

// validateClusterLink checks cluster-sip: an explicit address must be a
// reachable host:port; a derived one must not take a port another of
// this node's TCP listeners is configured on (raft-listen's port + 1 is
// someone else's when the operator spaced ports by one); a director needs
// a link.
func (c Config) validateClusterLink(ls []Listener, bad func(key, format string, args ...any)) {
	addr, derived, err := c.clusterLink()
	switch {
	case err != nil:
		if checkHostPort(c.RaftListen, false) == nil { // else raft-listen's error says it
			bad("cluster-sip", "%v", err)
		}
		return
	case addr == "":
		if c.Role == RoleDirector {
			bad("cluster-sip", "required with role director (it proxies to home nodes over the cluster link)")
		}
		return
	case !derived:
		if err := checkHostPort(addr, false); err != nil {
			bad("cluster-sip", "%v", err)
		} else if h, _, _ := net.SplitHostPort(addr); isUnspecified(h) {
			bad("cluster-sip", "%q: other members cannot reach this node at an unspecified address; use a routable IP or host name", addr)
		}
		return
	}
	others := []struct{ key, addr string }{
		{"admin-listen", c.AdminListen}, {"xcap-listen", c.XCAPListen}, {"pprof-listen", c.PprofListen},
	}
	for _, l := range ls {
		if l.Network() == "tcp" {
			others = append(others, struct{ key, addr string }{"sip-listen", l.Addr()})
		}
	}
	for _, o := range others {
		if o.addr != "" && sameSocket(addr, o.addr) {
			bad("cluster-sip", "auto: %s (raft-listen's port + 1) is %s's address %q; set cluster-sip to a free host:port, or off", addr, o.key, o.addr)
		}
	}
}

// sameSocket reports whether two TCP listen addresses would take the same
// port: equal ports, and equal hosts or either one all interfaces.
func sameSocket(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil || pa != pb || pa == "0" {
		return false
	}
	return ha == hb || ha == "" || hb == "" || isUnspecified(ha) || isUnspecified(hb)
}
