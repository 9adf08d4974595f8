package codec

import (
	"errors"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/contract"
	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

const rawMessage = "MESSAGE sip:bob@example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n" +
	"From: <sip:alice@example.com>;tag=a1\r\n" +
	"To: <sip:bob@example.com>\r\n" +
	"Call-ID: c1@127.0.0.1\r\n" +
	"CSeq: 1 MESSAGE\r\n" +
	"Max-Forwards: 70\r\n" +
	"Content-Type: text/plain\r\n" +
	"Content-Length: 5\r\n\r\nhello"

func testRequest(t testing.TB) *sip.Request {
	t.Helper()
	req, err := ParseRequest([]byte(rawMessage))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestRequestRoundTrip(t *testing.T) {
	req := testRequest(t)
	m := EncodeRequest(7, &contract.Request{Req: req, Source: "127.0.0.1:5070", Transport: "udp", Identity: "alice@example.com", StrictRouted: true})
	if m.Id != 7 || m.Method != "MESSAGE" || m.RequestUri != "sip:bob@example.com" || m.CallId != "c1@127.0.0.1" ||
		m.ContentType != "text/plain" || !m.StrictRouted || m.Identity != "alice@example.com" || !strings.Contains(m.From, "alice") {
		t.Fatalf("encoded %+v", m)
	}
	back, err := DecodeRequest(m)
	if err != nil {
		t.Fatal(err)
	}
	if string(back.Body()) != "hello" || back.Recipient.User != "bob" || back.CSeq().SeqNo != 1 {
		t.Fatalf("decoded %s", back)
	}
}

func TestDecodeRequestRefuses(t *testing.T) {
	for name, raw := range map[string]string{
		"empty":    "",
		"garbage":  "\x00\x01hello",
		"response": "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 1 MESSAGE\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nContent-Length: 0\r\n\r\n",
		"huge":     "MESSAGE sip:b@h SIP/2.0\r\n" + strings.Repeat("X", MaxMessage),
	} {
		if _, err := DecodeRequest(&pb.SipRequest{Raw: []byte(raw)}); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

func TestResponseRoundTrip(t *testing.T) {
	req := testRequest(t)
	res := sip.NewResponseFromRequest(req, 202, "Accepted", nil)
	m := EncodeResponse(9, res)
	back, err := DecodeResponse(m)
	if err != nil || back.StatusCode != 202 || m.StatusCode != 202 || m.Id != 9 {
		t.Fatalf("%v %v %+v", back, err, m)
	}
	if _, err := DecodeResponse(&pb.SipResponse{Raw: []byte(rawMessage)}); !errors.Is(err, ErrBadMessage) {
		t.Fatalf("a request decoded as a response: %v", err)
	}
}

func TestDecodeVerdict(t *testing.T) {
	hdr := func(n, v string) *pb.Header { return &pb.Header{Name: n, Value: v} }
	tests := []struct {
		name   string
		v      *pb.Verdict
		ok     bool
		action contract.Action
	}{
		{"unspecified", &pb.Verdict{}, false, 0},
		{"unknown action", &pb.Verdict{Action: 99}, false, 0},
		{"continue", &pb.Verdict{Action: pb.Action_ACTION_CONTINUE, AddHeaders: []*pb.Header{hdr("X-Filter", "clean")}, RemoveHeaders: []string{"Subject"}, RequestUri: "sip:carol@example.com"}, true, contract.Continue},
		{"continue crlf value", &pb.Verdict{Action: pb.Action_ACTION_CONTINUE, AddHeaders: []*pb.Header{hdr("X-A", "a\r\nVia: evil")}}, false, 0},
		{"continue bad name", &pb.Verdict{Action: pb.Action_ACTION_CONTINUE, AddHeaders: []*pb.Header{hdr("X A", "a")}}, false, 0},
		{"continue protected", &pb.Verdict{Action: pb.Action_ACTION_CONTINUE, RemoveHeaders: []string{"Via"}}, false, 0},
		{"continue protected compact", &pb.Verdict{Action: pb.Action_ACTION_CONTINUE, AddHeaders: []*pb.Header{hdr("i", "x")}}, false, 0},
		{"continue bad ruri", &pb.Verdict{Action: pb.Action_ACTION_CONTINUE, RequestUri: "http://x"}, false, 0},
		{"continue body", &pb.Verdict{Action: pb.Action_ACTION_CONTINUE, SetBody: true, Body: []byte("***"), ContentType: "text/plain"}, true, contract.Continue},
		{"continue body no type", &pb.Verdict{Action: pb.Action_ACTION_CONTINUE, SetBody: true, Body: []byte("x")}, false, 0},
		{"respond", &pb.Verdict{Action: pb.Action_ACTION_RESPOND, Code: 403, Headers: []*pb.Header{hdr("Warning", `399 filter "blocked"`)}}, true, contract.Respond},
		{"respond 1xx", &pb.Verdict{Action: pb.Action_ACTION_RESPOND, Code: 180}, false, 0},
		{"respond 700", &pb.Verdict{Action: pb.Action_ACTION_RESPOND, Code: 700}, false, 0},
		{"respond reason newline", &pb.Verdict{Action: pb.Action_ACTION_RESPOND, Code: 403, Reason: "no\n"}, false, 0},
		{"redirect", &pb.Verdict{Action: pb.Action_ACTION_REDIRECT, Targets: []string{"sip:vm@example.com"}}, true, contract.Redirect},
		{"redirect no contact", &pb.Verdict{Action: pb.Action_ACTION_REDIRECT}, false, 0},
		{"redirect 200", &pb.Verdict{Action: pb.Action_ACTION_REDIRECT, Code: 200, Targets: []string{"sip:vm@example.com"}}, false, 0},
		{"proxy", &pb.Verdict{Action: pb.Action_ACTION_PROXY, Targets: []string{"sip:gw.example.com:5080;transport=tcp"}}, true, contract.Proxy},
		{"proxy two", &pb.Verdict{Action: pb.Action_ACTION_PROXY, Targets: []string{"sip:a@h", "sip:b@h"}}, false, 0},
		{"proxy header injection", &pb.Verdict{Action: pb.Action_ACTION_PROXY, Targets: []string{"sip:a@h>,<sip:b@h"}}, false, 0},
		{"fork", &pb.Verdict{Action: pb.Action_ACTION_FORK, Targets: []string{"sip:a@h", "tel:+15551234"}}, true, contract.Fork},
		{"fork none", &pb.Verdict{Action: pb.Action_ACTION_FORK}, false, 0},
		{"fork too many", &pb.Verdict{Action: pb.Action_ACTION_FORK, Targets: make([]string, 17)}, false, 0},
		{"drop", &pb.Verdict{Action: pb.Action_ACTION_DROP}, true, contract.Drop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeVerdict(tt.v)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrBadMessage) {
				t.Fatalf("err %v does not wrap ErrBadMessage", err)
			}
			if tt.ok && got.Action != tt.action {
				t.Fatalf("action %d, want %d", got.Action, tt.action)
			}
		})
	}
}

func TestRespondDefaultReason(t *testing.T) {
	v, err := DecodeVerdict(&pb.Verdict{Action: pb.Action_ACTION_REDIRECT, Targets: []string{"sip:vm@example.com"}})
	if err != nil || v.Code != 302 || v.Reason != "Moved Temporarily" || v.Targets[0].User != "vm" {
		t.Fatalf("%+v %v", v, err)
	}
}
