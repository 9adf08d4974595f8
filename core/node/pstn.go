package node

import (
	"net"
	"strconv"

	"github.com/parley-rtc/parley/core/transport"
)

// pstnSelf lists this node's SIP addresses (advertised host:port and
// bound host:port of every listener): the admin API refuses a PSTN
// trunk that points at one (a loop, gateways/pstn ErrLoop).
func pstnSelf(ls []*transport.Listener) []string {
	var out []string
	for _, l := range ls {
		out = append(out, net.JoinHostPort(l.Advertise, strconv.Itoa(l.Port)), l.Bound)
	}
	return out
}
