package echo

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
	"github.com/parley-rtc/parley/plugins/sdk"
)

func TestHandle(t *testing.T) {
	s := startEcho(t, map[string]string{"address": "Echo"})
	if got := s.Claim(sdk.Config{}); len(got) != 1 || got[0] != "Echo@example.com" {
		t.Fatalf("claims %v", got)
	}
	req := func(method, uri, toTag string) *sdk.Request {
		var u sip.Uri
		if err := sip.ParseUri(uri, &u); err != nil {
			t.Fatal(err)
		}
		r := sip.NewRequest(sip.RequestMethod(method), u)
		to := &sip.ToHeader{Address: u}
		if toTag != "" {
			to.Params = sip.NewParams()
			to.Params.Add("tag", toTag)
		}
		r.AppendHeader(to)
		return &sdk.Request{Request: r}
	}
	tests := []struct {
		name string
		req  *sdk.Request
		want pb.Action
	}{
		{"invite to the echo", req("INVITE", "sip:echo@EXAMPLE.com", ""), pb.Action_ACTION_PROXY},
		{"another user", req("INVITE", "sip:bob@example.com", ""), pb.Action_ACTION_CONTINUE},
		{"another domain", req("INVITE", "sip:echo@example.net", ""), pb.Action_ACTION_CONTINUE},
		{"in dialog", req("INVITE", "sip:echo@example.com", "x"), pb.Action_ACTION_CONTINUE},
		{"not an invite", req("MESSAGE", "sip:echo@example.com", ""), pb.Action_ACTION_CONTINUE},
		{"health ping", req("OPTIONS", "sip:echo@example.com", ""), pb.Action_ACTION_PROXY},
		{"options in dialog", req("OPTIONS", "sip:echo@example.com", "x"), pb.Action_ACTION_CONTINUE},
		{"options to another user", req("OPTIONS", "sip:bob@example.com", ""), pb.Action_ACTION_CONTINUE},
	}
	for _, tt := range tests {
		v := s.Handle(context.Background(), tt.req).Proto()
		if v.Action != tt.want {
			t.Errorf("%s: %v", tt.name, v.Action)
		}
		if tt.want == pb.Action_ACTION_PROXY && (len(v.Targets) != 1 || v.Targets[0] != "sip:"+s.Addr()+";transport=udp") {
			t.Errorf("%s: targets %v", tt.name, v.Targets)
		}
	}
}

func TestRejects(t *testing.T) {
	s := startEcho(t, map[string]string{"max-calls": "1"})
	c := newCaller(t)
	if res := c.invite(s, c.offerSDP("", "18", "a=rtpmap:18 G729/8000")); res.StatusCode != 488 || res.GetHeader("Warning") == nil {
		t.Fatalf("G.729 only: %d", res.StatusCode)
	}
	if res := c.invite(s, []byte("v=0\r\nnonsense")); res.StatusCode != 488 {
		t.Fatalf("bad SDP: %d", res.StatusCode)
	}
	if res := c.invite(s, c.offerSDP("", "0", "a=rtpmap:0 PCMU/8000")); res.StatusCode != 200 {
		t.Fatalf("first call: %d", res.StatusCode)
	}
	first := c.sess
	c2 := newCaller(t)
	if res := c2.invite(s, c2.offerSDP("", "0")); res.StatusCode != 486 {
		t.Fatalf("second call beyond max-calls: %d", res.StatusCode)
	}
	c.sess = first
	if err := c.bye(); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().Rejected.Load(); got != 3 {
		t.Fatalf("%d rejected", got)
	}
}

func TestUnknownDialog(t *testing.T) {
	s := startEcho(t, nil)
	c := newCaller(t)
	for _, m := range []sip.RequestMethod{sip.BYE, sip.INVITE, sip.INFO} {
		uri := sip.Uri{Scheme: "sip", User: "echo", Host: "127.0.0.1"}
		_, port, _ := net.SplitHostPort(s.Addr())
		uri.Port = atoi(port)
		req := sip.NewRequest(m, uri)
		to := &sip.ToHeader{Address: uri, Params: sip.NewParams()}
		to.Params.Add("tag", "nobody")
		req.AppendHeader(to)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		res, err := c.client.Do(ctx, req)
		cancel()
		if err != nil || res.StatusCode != 481 {
			t.Fatalf("%s in no dialog: %v %v", m, res, err)
		}
	}
}

func TestRTPTimeout(t *testing.T) {
	s := startEcho(t, map[string]string{"rtp-timeout": "400ms"})
	c := newCaller(t)
	res := c.invite(s, c.offerSDP("", "0"))
	if res.StatusCode != 200 {
		t.Fatal(res.StatusCode)
	}
	port := answerPort(t, res)
	c.expectEcho(port, 0) // then silence
	select {
	case bye := <-c.byes:
		if h := bye.GetHeader(sdk.LinkHeader); h == nil || h.Value() != "tok-123" {
			t.Fatalf("BYE without the link token:\n%s", bye)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no BYE after the RTP timeout")
	}
	waitFor(t, "call released", func() bool { return s.Stats().Active.Load() == 0 })
	if s.Stats().Timeouts.Load() != 1 {
		t.Fatalf("%d timeouts", s.Stats().Timeouts.Load())
	}
	l, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatalf("port still held: %v", err)
	}
	l.Close()
}

func TestHoldStopsTimeout(t *testing.T) {
	s := startEcho(t, map[string]string{"rtp-timeout": "300ms"})
	c := newCaller(t)
	if res := c.invite(s, c.offerSDP("inactive", "0")); res.StatusCode != 200 || !hasLine(res, "a=inactive") {
		t.Fatalf("inactive call: %d", res.StatusCode)
	}
	select {
	case <-c.byes:
		t.Fatal("BYE while inactive")
	case <-time.After(time.Second):
	}
	if err := c.bye(); err != nil {
		t.Fatal(err)
	}
}

func TestLatching(t *testing.T) {
	for _, latch := range []string{"on", "off"} {
		t.Run(latch, func(t *testing.T) {
			s := startEcho(t, map[string]string{"latch": latch})
			c := newCaller(t)
			// The offer names a port nobody sends from.
			res := c.invite(s, []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"))
			if res.StatusCode != 200 {
				t.Fatal(res.StatusCode)
			}
			port := answerPort(t, res)
			sent := c.sendRTP(port, 0, 5)
			got := c.recvRTP(200 * time.Millisecond)
			if latch == "on" && len(got) != len(sent) {
				t.Fatalf("latching: %d of %d echoed", len(got), len(sent))
			}
			if latch == "off" && (len(got) != 0 || s.Stats().Ignored.Load() != 5) {
				t.Fatalf("no latching: %d echoed, %d ignored", len(got), s.Stats().Ignored.Load())
			}
			if latch == "on" {
				// Once latched, another source is ignored.
				other := newCaller(t)
				other.sendRTP(port, 0, 3)
				if got := other.recvRTP(200 * time.Millisecond); len(got) != 0 || s.Stats().Ignored.Load() != 3 {
					t.Fatalf("second source: %d echoed, %d ignored", len(got), s.Stats().Ignored.Load())
				}
			}
			if err := c.bye(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// TestHealthOptions: an OPTIONS answers 200 with what the echo holds:
// nothing, then one call's dialog, two sockets and two readers, then
// nothing again once the call ended.
func TestHealthOptions(t *testing.T) {
	s := startEcho(t, nil)
	c := newCaller(t)
	health := func() map[string]string {
		t.Helper()
		host, port, _ := net.SplitHostPort(s.Addr())
		req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", User: "echo", Host: host, Port: atoi(port)})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := c.client.Do(ctx, req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("OPTIONS: %v %v", res, err)
		}
		m := map[string]string{}
		for _, h := range []string{HeaderCalls, HeaderSockets, HeaderGoroutines, HeaderRuntime} {
			if v := res.GetHeader(h); v != nil {
				m[h] = v.Value()
			}
		}
		return m
	}
	want := func(got map[string]string, calls, sockets, goroutines string) {
		t.Helper()
		if got[HeaderCalls] != calls || got[HeaderSockets] != sockets || got[HeaderGoroutines] != goroutines || atoi(got[HeaderRuntime]) <= 0 {
			t.Fatalf("health %v, want calls %s, sockets %s, goroutines %s", got, calls, sockets, goroutines)
		}
	}
	want(health(), "0", "0", "0")
	if res := c.invite(s, c.offerSDP("", "0", basicFormats...)); res.StatusCode != 200 {
		t.Fatalf("INVITE: %d", res.StatusCode)
	}
	want(health(), "1", "2", "2")
	if err := c.bye(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "call released", func() bool { return s.Stats().Active.Load() == 0 })
	want(health(), "0", "0", "0")
}
