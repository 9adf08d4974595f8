// Package rtpmedia holds what plugins that relay RTP (the echo example,
// the WebRTC gateway) share: a round-robin allocator of RTP/RTCP port
// pairs, the RFC 5761 test that tells RTCP from RTP on one port, the
// per-payload-type attribute lookup of an SDP media description, and RFC
// 3264's stream directions (direction.go: a stream's direction, the one
// that answers it). It imports nothing of the server.
package rtpmedia

import (
	"errors"
	"net"
	"strings"
	"sync/atomic"

	"github.com/pion/sdp/v3"
)

// ErrNoPorts: every port pair of the range is taken (503 to the caller).
var ErrNoPorts = errors.New("rtpmedia: no free RTP port pair in the range")

// Ports hands out port pairs (even RTP, odd RTCP) from [Min, Max] on IP,
// round robin so that a port just released is not the next one taken.
type Ports struct {
	IP       net.IP
	Min, Max int
	next     atomic.Uint32
}

// Bind opens the next free pair, or fails with ErrNoPorts once every pair
// of the range was tried.
func (p *Ports) Bind() (rtpConn, rtcpConn *net.UDPConn, err error) {
	pairs := (p.Max - p.Min + 1) / 2
	for range pairs {
		port := p.Min + 2*int(p.next.Add(1)%uint32(pairs))
		a, err := net.ListenUDP("udp", &net.UDPAddr{IP: p.IP, Port: port})
		if err != nil {
			continue
		}
		b, err := net.ListenUDP("udp", &net.UDPAddr{IP: p.IP, Port: port + 1})
		if err != nil {
			a.Close()
			continue
		}
		return a, b, nil
	}
	return nil, nil, ErrNoPorts
}

// IsRTCP tells RTCP from RTP on a multiplexed port (RFC 5761 4): RTCP
// packet types 192-223 fall where RTP has marker+payload type 64-95.
func IsRTCP(b []byte) bool {
	return len(b) >= 2 && b[1] >= 192 && b[1] <= 223
}

// AttrFor returns the value after "<pt> " of md's first key attribute
// (rtpmap, fmtp) for payload type pt, "" when there is none.
func AttrFor(md *sdp.MediaDescription, key, pt string) string {
	for _, a := range md.Attributes {
		if a.Key == key {
			if v, ok := strings.CutPrefix(a.Value, pt+" "); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return ""
}
