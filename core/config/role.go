package config

import (
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Node roles.
const (
	RoleHome = "home" // holds users and bindings (the default)
	RoleEdge = "edge" // access proxy in front of the cluster
	// RoleDirector holds no bindings: it redirects REGISTER to the user's
	// home node and proxies other requests there.
	RoleDirector = "director"
)

// validateRole checks role and the keys that belong to one role.
func (c Config) validateRole(bad func(key, format string, args ...any)) {
	switch c.Role {
	case RoleHome:
	case RoleEdge:
		if len(c.EdgeInward) == 0 {
			bad("edge-inward", "role edge needs at least one inward next hop (a director or home node)")
		}
	case RoleDirector:
	default:
		bad("role", "unknown role %q (want home, director or edge)", c.Role)
	}
	if c.Role != RoleEdge {
		if len(c.EdgeInward) > 0 {
			bad("edge-inward", "only for role edge")
		}
		if c.TopologyHiding {
			bad("topology-hiding", "only for role edge")
		}
	}
	for _, s := range c.EdgeInward {
		if err := checkSIPURI(s); err != nil {
			bad("edge-inward", "%v", err)
		}
	}
	if c.DNSServer != "" {
		if err := checkHostPort(c.DNSServer, false); err != nil {
			if herr := checkHost(strings.Trim(c.DNSServer, "[]"), strings.HasPrefix(c.DNSServer, "[")); herr != nil {
				bad("dns-server", "%q: want host or host:port", c.DNSServer)
			}
		}
	}
}

// checkSIPURI accepts a sip: or sips: URI with a host.
func checkSIPURI(s string) error {
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil || u.Host == "" || (u.Scheme != "sip" && u.Scheme != "sips") {
		return fmt.Errorf("%q: want a sip: or sips: URI with a host", s)
	}
	return nil
}
