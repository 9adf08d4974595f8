package webrtc

import (
	"errors"
	"net"
	"testing"
)

// scriptedConn returns one datagram per source, then net.ErrClosed.
type scriptedConn struct {
	net.PacketConn
	from []*net.UDPAddr
}

func (c *scriptedConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if len(c.from) == 0 {
		return 0, nil, net.ErrClosed
	}
	a := c.from[0]
	c.from = c.from[1:]
	return copy(b, a.String()), a, nil
}

// TestLoopbackConn: the ICE socket on a loopback address passes
// datagrams from loopback sources (IPv4 and IPv6) and skips the others.
func TestLoopbackConn(t *testing.T) {
	c := loopbackConn{&scriptedConn{from: []*net.UDPAddr{
		{IP: net.IPv4(192, 0, 2, 2), Port: 1}, {IP: net.IPv4(127, 0, 0, 1), Port: 2},
		{IP: net.ParseIP("fd00::2"), Port: 3}, {IP: net.IPv6loopback, Port: 4}, {IP: net.IPv4(127, 1, 2, 3), Port: 5},
	}}}
	var got []int
	buf := make([]byte, 64)
	for range 10 {
		_, addr, err := c.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			break
		}
		got = append(got, addr.(*net.UDPAddr).Port)
	}
	if len(got) != 3 || got[0] != 2 || got[1] != 4 || got[2] != 5 {
		t.Fatalf("datagrams from ports %v, want [2 4 5]", got)
	}
}
