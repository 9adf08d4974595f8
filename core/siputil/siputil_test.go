package siputil

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestWriteRelayed: the relayed bytes are the response's own without its
// top Via, equal to what a copy with the Via removed serialises to, and
// the response is left as it was.
func TestWriteRelayed(t *testing.T) {
	for _, raw := range []string{
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-ours\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-theirs;rport=5070\r\n" +
			"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 2 MESSAGE\r\nContent-Length: 0\r\n\r\n",
		"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-ours\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-x\r\n" +
			"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
	} {
		msg, err := sip.NewParser().ParseSIP([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		res := msg.(*sip.Response)
		before := res.String()
		var got strings.Builder
		WriteRelayed(&got, res)
		want := res.Clone()
		want.RemoveHeader("Via")
		if got.String() != want.String() {
			t.Fatalf("relayed\n%q\nwant\n%q", got.String(), want.String())
		}
		if strings.Contains(got.String(), "z9hG4bK-ours") {
			t.Fatalf("our Via was relayed: %q", got.String())
		}
		if res.String() != before {
			t.Fatal("the response was changed")
		}
	}
}

// TestHeadersAnyCase: headers are found whatever the letter case of the
// name asked for or sent, in order; absent ones are not.
func TestHeadersAnyCase(t *testing.T) {
	raw := "REGISTER sip:localhost SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:a@h>\r\n" +
		"Call-ID: c\r\nCSeq: 1 REGISTER\r\nproxy-require: foo\r\nProxy-Require: bar\r\nContent-Length: 0\r\n\r\n"
	msg, err := sip.NewParser().ParseSIP([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	req := msg.(*sip.Request)
	hs := Headers(req, "PROXY-REQUIRE")
	if len(hs) != 2 || hs[0].Value() != "foo" || hs[1].Value() != "bar" {
		t.Fatalf("Headers: %v", hs)
	}
	if !HasHeader(req, "call-id") || HasHeader(req, "Authorization") || len(Headers(req, "Require")) != 0 {
		t.Fatal("HasHeader/Headers found the wrong headers")
	}
}
