package udpfast

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestChallengeable: what the stateless challenge answers, as the read
// loop sees it: a request Intercept parses (not INVITE, ACK, CANCEL or a
// response) that is initial and carries no credentials.
func TestChallengeable(t *testing.T) {
	const tail = "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:a@localhost>;tag=1\r\nCall-ID: c\r\n"
	for _, tc := range []struct {
		name string
		msg  string
		want bool
	}{
		{"register", "REGISTER sip:localhost SIP/2.0\r\nTo: <sip:a@localhost>\r\n" + tail + "CSeq: 1 REGISTER\r\n\r\n", true},
		{"message with body", "MESSAGE sip:b@localhost SIP/2.0\r\nt: <sip:b@localhost>\r\n" + tail + "CSeq: 1 MESSAGE\r\n\r\nAuthorization: in the body", true},
		{"credentials", "REGISTER sip:localhost SIP/2.0\r\nTo: <sip:a@localhost>\r\n" + tail + "authorization : Digest x\r\n\r\n", false},
		{"proxy credentials", "MESSAGE sip:b@localhost SIP/2.0\r\nTo: <sip:b@localhost>\r\n" + tail + "Proxy-Authorization: Digest x\r\n\r\n", false},
		{"in dialog", "MESSAGE sip:b@localhost SIP/2.0\r\nTo: <sip:b@localhost>;TAG=9\r\n" + tail + "\r\n", false},
		{"compact to with tag", "BYE sip:b@localhost SIP/2.0\r\nt: <sip:b@localhost>;tag=9\r\n" + tail + "\r\n", false},
		{"invite", "INVITE sip:b@localhost SIP/2.0\r\nTo: <sip:b@localhost>\r\n" + tail + "\r\n", false},
		{"ack", "ACK sip:b@localhost SIP/2.0\r\nTo: <sip:b@localhost>\r\n" + tail + "\r\n", false},
		{"cancel", "CANCEL sip:b@localhost SIP/2.0\r\nTo: <sip:b@localhost>\r\n" + tail + "\r\n", false},
		{"response", "SIP/2.0 200 OK\r\nTo: <sip:b@localhost>\r\n" + tail + "\r\n", false},
		{"keepalive", "\r\n\r\n", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := false
			if directCandidate([]byte(tc.msg)) {
				if msg, err := sip.NewParser().ParseSIP([]byte(tc.msg)); err == nil {
					req, ok := msg.(*sip.Request)
					got = ok && challengeable(req)
				}
			}
			if got != tc.want {
				t.Fatalf("challengeable = %v, want %v", got, tc.want)
			}
		})
	}
}
