package pipeline

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestValueLen: the counted length of every kind of header equals the
// length of its Value().
func TestValueLen(t *testing.T) {
	raw := "MESSAGE sip:bob@localhost SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;rport\r\n" +
		"Via: SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bK2;received=2001:db8::2\r\n" +
		"Via: SIP/2.0/UDP proxy.example.net;branch=z9hG4bK3\r\n" +
		"From: \"Alice A\" <sip:alice@localhost>;tag=1\r\n" +
		"To: <sip:bob@localhost>\r\n" +
		"Call-ID: abc@host\r\nCSeq: 12 MESSAGE\r\nMax-Forwards: 70\r\nExpires: 60\r\n" +
		"Contact: <sip:alice@127.0.0.1:5070;transport=udp>;expires=30;+sip.instance=\"<urn:uuid:1>\"\r\n" +
		"Route: <sip:127.0.0.1;lr>\r\nRecord-Route: <sip:10.0.0.1;lr>\r\n" +
		"Content-Type: text/plain\r\nX-Long: " + strings.Repeat("x", 300) + "\r\n" +
		"Content-Length: 2\r\n\r\nhi"
	msg, err := sip.NewParser().ParseSIP([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	var n lenCounter
	for _, h := range msg.(*sip.Request).Headers() {
		got, want := valueLen(h, &n), len(h.Value())
		switch h.(type) {
		case *sip.FromHeader, *sip.ToHeader, *sip.ContactHeader:
			if got < want { // a bound, never short
				t.Errorf("%s: valueLen %d below Value()'s %d", h.Name(), got, want)
			}
		default:
			if got != want && got != 0 {
				t.Errorf("%s: valueLen %d, Value() has %d", h.Name(), got, want)
			}
		}
	}
}

// TestValueLenLongAddress: an address header past the limit is caught
// whichever way it is long (display name, user, URI or header params).
func TestValueLenLongAddress(t *testing.T) {
	long := strings.Repeat("a", maxHeader)
	for _, from := range []string{
		"\"" + long + "\" <sip:alice@localhost>;tag=1",
		"<sip:" + long + "@localhost>;tag=1",
		"<sip:alice@localhost;x=" + long + ">;tag=1",
		"<sip:alice@localhost>;tag=" + long,
	} {
		raw := "MESSAGE sip:bob@localhost SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n" +
			"From: " + from + "\r\nTo: <sip:bob@localhost>\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
		msg, err := sip.NewParser().ParseSIP([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		var n lenCounter
		if got := valueLen(msg.(*sip.Request).From(), &n); got <= maxHeader {
			t.Errorf("From %.40q...: valueLen %d, want over %d", from, got, maxHeader)
		}
	}
}
