package rtpmedia

import (
	"errors"
	"net"
	"testing"

	"github.com/pion/sdp/v3"
)

func TestPortsBindRoundRobinAndFull(t *testing.T) {
	// Find a free even pair to make a one-pair range.
	var p *Ports
	for try := 0; try < 50 && p == nil; try++ {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port &^ 1
		c.Close()
		if port > 0 && port < 65534 {
			p = &Ports{IP: net.IPv4(127, 0, 0, 1), Min: port, Max: port + 1}
		}
	}
	a, b, err := p.Bind()
	if err != nil {
		t.Skipf("pair busy: %v", err)
	}
	if a.LocalAddr().(*net.UDPAddr).Port%2 != 0 || b.LocalAddr().(*net.UDPAddr).Port != a.LocalAddr().(*net.UDPAddr).Port+1 {
		t.Fatalf("pair %v %v", a.LocalAddr(), b.LocalAddr())
	}
	if _, _, err := p.Bind(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("full range: %v, want ErrNoPorts", err)
	}
	a.Close()
	b.Close()
	if a2, b2, err := p.Bind(); err != nil {
		t.Fatalf("released pair not taken again: %v", err)
	} else {
		a2.Close()
		b2.Close()
	}
}

func TestIsRTCP(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want bool
	}{{[]byte{0x80, 200}, true}, {[]byte{0x80, 223}, true}, {[]byte{0x80, 0}, false}, {[]byte{0x80, 0xe0}, false}, {[]byte{0x80}, false}} {
		if got := IsRTCP(tc.b); got != tc.want {
			t.Errorf("IsRTCP(%v) = %v", tc.b, got)
		}
	}
}

func TestAttrFor(t *testing.T) {
	md := &sdp.MediaDescription{Attributes: []sdp.Attribute{
		{Key: "rtpmap", Value: "0 PCMU/8000"}, {Key: "rtpmap", Value: "101 telephone-event/8000"}, {Key: "fmtp", Value: "101 0-15 "},
	}}
	if got := AttrFor(md, "rtpmap", "101"); got != "telephone-event/8000" {
		t.Errorf("rtpmap 101: %q", got)
	}
	if got := AttrFor(md, "fmtp", "101"); got != "0-15" {
		t.Errorf("fmtp 101: %q", got)
	}
	if got := AttrFor(md, "rtpmap", "10"); got != "" {
		t.Errorf("rtpmap 10: %q (a prefix of 101 must not match)", got)
	}
}
