package location

import (
	"net"
	"testing"
)

// FuzzParseLink: a member's SIPAddr (replicated, written by another
// node) never makes ParseLink panic, and what it accepts is a dialable
// host:port over TCP, TLS or UDP.
func FuzzParseLink(f *testing.F) {
	for _, s := range []string{"sip:10.0.0.2:5070;transport=tcp", "sips:[::1]:5071;transport=tcp", "sip:h", "tcp://1.2.3.4:5", "sip:;transport=", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, ok := ParseLink(s)
		if !ok {
			return
		}
		if _, _, err := net.SplitHostPort(l.HostPort); err != nil {
			t.Fatalf("ParseLink(%q) = %+v: %v", s, l, err)
		}
		if l.Network != "TCP" && l.Network != "TLS" && l.Network != "UDP" {
			t.Fatalf("ParseLink(%q) network %q", s, l.Network)
		}
	})
}
