package pipeline

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/transport"
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

// validationCase is a request spoiled in one way and the code it must get.
type validationCase struct {
	name string
	msg  string
	want int // 0: valid
}

// spoil returns a MESSAGE to bob with every header a proxy needs, after
// edit changed its text.
func spoil(method, uri string, edit func(string) string) string {
	msg := method + " " + uri + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:alice@localhost>;tag=1\r\nTo: <sip:bob@localhost>\r\n" +
		"Call-ID: c1\r\nCSeq: 1 " + method + "\r\n" +
		"Content-Length: 0\r\n\r\n"
	if edit != nil {
		msg = edit(msg)
	}
	return msg
}

func add(h string) func(string) string {
	return func(m string) string { return strings.Replace(m, "Content-Length", h+"\r\nContent-Length", 1) }
}

func swap(from, to string) func(string) string {
	return func(m string) string { return strings.Replace(m, from, to, 1) }
}

// TestInvalid: each RFC 3261 8.2/16.3 check gives its code, in RFC
// order when a request fails several, and Require is ours to check only
// on requests this node answers itself.
func TestInvalid(t *testing.T) {
	p := &Pipeline{cfg: Config{Listeners: transport.NewSet(nil)}}
	const msg, reg, opt = "MESSAGE", "REGISTER", "OPTIONS"
	for _, tc := range []validationCase{
		{"valid", spoil(msg, "sip:bob@localhost", nil), 0},
		{"version 7.0", spoil(msg, "sip:bob@localhost", swap("localhost SIP/2.0", "localhost SIP/7.0")), 505},
		{"version lower case", spoil(msg, "sip:bob@localhost", swap("localhost SIP/2.0", "localhost sip/2.0")), 0},
		{"version before everything", spoil(msg, "sip:bob@localhost", func(m string) string {
			return add("Proxy-Require: noodles")(swap("CSeq: 1 MESSAGE", "CSeq: 1 INVITE")(swap("localhost SIP/2.0", "localhost SIP/7.0")(m)))
		}), 505},
		{"cseq method mismatch", spoil(msg, "sip:bob@localhost", swap("CSeq: 1 MESSAGE", "CSeq: 1 INVITE")), 400},
		{"mismatch before proxy-require", spoil(opt, "sip:bob@localhost", func(m string) string {
			return add("Proxy-Require: noodles")(swap("CSeq: 1 OPTIONS", "CSeq: 8 INVITE")(m))
		}), 400},
		{"no call-id", spoil(msg, "sip:bob@localhost", swap("Call-ID: c1\r\n", "")), 400},
		{"scheme", spoil(msg, "xyz:bob@localhost", nil), 416},
		{"max-forwards 0", spoil(msg, "sip:bob@localhost", swap("Max-Forwards: 70", "Max-Forwards: 0")), 483},
		{"proxy-require", spoil(msg, "sip:bob@localhost", add("Proxy-Require: noodles")), 420},
		{"proxy-require supported", spoil(msg, "sip:bob@localhost", add("Proxy-Require: path")), 0},
		{"require on a proxied request", spoil(msg, "sip:bob@localhost", add("Require: nothing")), 0},
		{"require on register", spoil(reg, "sip:localhost", add("Require: nothing")), 420},
		{"require on options to us", spoil(opt, "sip:localhost", add("Require: nothing")), 420},
		{"require on publish", spoil("PUBLISH", "sip:bob@localhost", add("Event: presence\r\nRequire: nothing")), 420},
		{"require on presence subscribe", spoil("SUBSCRIBE", "sip:bob@localhost", add("Event: presence\r\nRequire: nothing")), 420},
		{"require on other subscribe", spoil("SUBSCRIBE", "sip:bob@localhost", add("Event: dialog\r\nRequire: nothing")), 0},
		{"header too long", spoil(msg, "sip:bob@localhost", add("X-Long: "+strings.Repeat("x", maxHeader+1))), 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := sip.NewParser().ParseSIP([]byte(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			r := p.invalid(m.(*sip.Request))
			switch {
			case tc.want == 0 && r != nil:
				t.Fatalf("rejected with %d %s, want valid", r.code, r.reason)
			case tc.want != 0 && r == nil:
				t.Fatalf("valid, want %d", tc.want)
			case r != nil && r.code != tc.want:
				t.Fatalf("%d %s, want %d", r.code, r.reason, tc.want)
			}
			if r != nil && r.code == 420 {
				if len(r.headers) != 1 || r.headers[0].Name() != "Unsupported" || r.headers[0].Value() == "" {
					t.Fatalf("420 without the Unsupported tags: %v", r.headers)
				}
			}
		})
	}
}

// TestInvalidOnAnEdge: an edge answers no request itself, so Require is
// the next hop's.
func TestInvalidOnAnEdge(t *testing.T) {
	p := &Pipeline{cfg: Config{Listeners: transport.NewSet(nil), Role: state.RoleEdge}}
	m, err := sip.NewParser().ParseSIP([]byte(spoil("REGISTER", "sip:localhost", add("Require: nothing"))))
	if err != nil {
		t.Fatal(err)
	}
	if r := p.invalid(m.(*sip.Request)); r != nil {
		t.Fatalf("edge rejected a REGISTER's Require: %d", r.code)
	}
}
