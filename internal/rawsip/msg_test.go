package rawsip

import (
	"reflect"
	"strings"
	"testing"
)

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
		check   func(t *testing.T, m *Msg)
	}{
		{name: "request with compact forms and folding", in: "NOTIFY sip:a@127.0.0.1:5 SIP/2.0\n" +
			"v: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1;rport, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-0\n" +
			"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-x\n" +
			"i: abc@x\nf: <sip:b@x>;tag=1\nt: <sip:a@x>\no: presence\nSubscription-State: active;\n expires=60\n" +
			"l: 4\n\nbodyTRAILING",
			check: func(t *testing.T, m *Msg) {
				if m.IsResponse() || m.Method != "NOTIFY" || m.RURI != "sip:a@127.0.0.1:5" {
					t.Errorf("start line: %q %q response=%v", m.Method, m.RURI, m.IsResponse())
				}
				if got := m.Header("call-id"); got != "abc@x" {
					t.Errorf("Call-ID = %q", got)
				}
				if got := m.Header("EVENT"); got != "presence" {
					t.Errorf("Event = %q", got)
				}
				if got := m.Header("Subscription-State"); got != "active; expires=60" {
					t.Errorf("folded Subscription-State = %q", got)
				}
				want := []string{"SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1;rport", "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-0", "SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-x"}
				if got := m.Headers("via"); !reflect.DeepEqual(got, want) {
					t.Errorf("Vias = %q", got)
				}
				if got := m.Branch(); got != "z9hG4bK-1" {
					t.Errorf("Branch = %q", got)
				}
				if m.Body != "body" {
					t.Errorf("Body = %q (cut to Content-Length)", m.Body)
				}
			}},
		{name: "response", in: "SIP/2.0 401 Unauthorized Now\nVia: SIP/2.0/UDP h;rport;BRANCH=z9hG4bK-7\nWWW-Authenticate: Digest realm=\"r\"\nWWW-Authenticate: Digest realm=\"s\"\n\n",
			check: func(t *testing.T, m *Msg) {
				if !m.IsResponse() || m.Code != 401 || m.Reason != "Unauthorized Now" {
					t.Errorf("status line: %d %q", m.Code, m.Reason)
				}
				if got := m.Headers("www-authenticate"); len(got) != 2 || got[1] != `Digest realm="s"` {
					t.Errorf("WWW-Authenticate values = %q", got)
				}
				if m.Branch() != "z9hG4bK-7" || m.Header("Missing") != "" || m.Headers("Missing") != nil {
					t.Errorf("Branch %q or missing header not empty", m.Branch())
				}
			}},
		{name: "content-length beyond body keeps body", in: "SIP/2.0 200 OK\nContent-Length: 99\n\nab",
			check: func(t *testing.T, m *Msg) {
				if m.Body != "ab" || m.Branch() != "" {
					t.Errorf("Body %q, Branch %q", m.Body, m.Branch())
				}
			}},
		{name: "negative content-length", in: "SIP/2.0 200 OK\nContent-Length: -3\n\nab",
			check: func(t *testing.T, m *Msg) {
				if m.Body != "ab" {
					t.Errorf("Body %q", m.Body)
				}
			}},
		{name: "no end of headers", in: "SIP/2.0 200 OK\nVia: x\n", wantErr: true},
		{name: "short start line", in: "INVITE sip:x\n\n", wantErr: true},
		{name: "bad status code", in: "SIP/2.0 abc OK\n\n", wantErr: true},
		{name: "header without colon", in: "SIP/2.0 200 OK\nnonsense\n\n", wantErr: true},
		{name: "garbage", in: "\x00\xff\n\n", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(crlf(tc.in))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Parse accepted %q: %+v", tc.in, m)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Raw != string(crlf(tc.in)) {
				t.Errorf("Raw is not the input")
			}
			tc.check(t, m)
		})
	}
}

func TestReply(t *testing.T) {
	req, err := Parse(crlf("NOTIFY sip:a@x SIP/2.0\nVia: SIP/2.0/UDP h1;branch=z9hG4bK-1, SIP/2.0/UDP h0;branch=z9hG4bK-0\n" +
		"From: <sip:b@x>;tag=f\nTo: <sip:a@x>\nCall-ID: c\nCSeq: 7 NOTIFY\nContent-Length: 0\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := "SIP/2.0 481 Gone\r\nVia: SIP/2.0/UDP h1;branch=z9hG4bK-1\r\nVia: SIP/2.0/UDP h0;branch=z9hG4bK-0\r\n" +
		"From: <sip:b@x>;tag=f\r\nTo: <sip:a@x>;tag=t1\r\nCall-ID: c\r\nCSeq: 7 NOTIFY\r\nContent-Length: 0\r\n\r\n"
	if got := req.Reply(481, "Gone", "t1"); got != want {
		t.Errorf("Reply =\n%q\nwant\n%q", got, want)
	}
	req.Fields[2].Value = "<sip:a@x>;tag=keep"
	if got := req.Reply(200, "OK", "t2"); !strings.Contains(got, "To: <sip:a@x>;tag=keep\r\n") {
		t.Errorf("Reply replaced an existing To tag:\n%s", got)
	}
}

func TestRequestText(t *testing.T) {
	r := &Request{Method: "PUBLISH", RURI: "sip:a@x", From: "<sip:a@x>;tag=1", To: "<sip:a@x>", CallID: "c", CSeq: 2,
		Headers: []string{"Event: presence"}, ContentType: "application/pidf+xml", Body: "<p/>", Authorization: "Authorization: Digest x"}
	want := "PUBLISH sip:a@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=b\r\nMax-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\n" +
		"To: <sip:a@x>\r\nCall-ID: c\r\nCSeq: 2 PUBLISH\r\nEvent: presence\r\nAuthorization: Digest x\r\n" +
		"Content-Type: application/pidf+xml\r\nUser-Agent: t\r\nContent-Length: 4\r\n\r\n<p/>"
	if got := r.Text("SIP/2.0/UDP h;branch=b", "t"); got != want {
		t.Errorf("Text =\n%q\nwant\n%q", got, want)
	}
	if got := r.Text("v", ""); strings.Contains(got, "User-Agent") {
		t.Errorf("User-Agent written without one:\n%s", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(crlf("SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK-1\nContent-Length: 2\n\nab"))
	f.Add(crlf("NOTIFY sip:a@x SIP/2.0\nv: a;branch=b, c\n x\nl: 1\n\nz"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		// Every accessor must work on whatever Parse accepted.
		_ = m.Branch()
		_ = m.Headers("Via")
		_ = m.Header("Content-Length")
		if !m.IsResponse() {
			_ = m.Reply(200, "OK", "t")
		}
		if len(m.Body) > len(b) {
			t.Fatalf("body longer than the input")
		}
	})
}
