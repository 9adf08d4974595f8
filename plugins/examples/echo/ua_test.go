package echo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/parley-rtc/parley/plugins/sdk"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startEcho configures a Service with settings (and a small port range
// of its own) and closes it with the test.
func startEcho(t *testing.T, settings map[string]string) *Service {
	t.Helper()
	set := map[string]string{"rtp-ports": "41000-41199"}
	for k, v := range settings {
		set[k] = v
	}
	s := NewService(quiet)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Configure(ctx, sdk.Config{App: "echo", Domains: []string{"example.com"}, Settings: set,
		Link: sdk.Link{Address: "127.0.0.1:1", Token: "tok-123"}}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Close(ctx)
	})
	return s
}

// caller is a sipgo user agent calling the echo directly, with an RTP
// socket of its own.
type caller struct {
	t      *testing.T
	ua     *sipgo.UserAgent
	client *sipgo.Client
	dlgs   *sipgo.DialogClientCache
	sess   *sipgo.DialogClientSession
	rtp    *net.UDPConn
	byes   chan *sip.Request
	seq    uint16
}

func newCaller(t *testing.T) *caller {
	t.Helper()
	c := &caller{t: t, byes: make(chan *sip.Request, 4)}
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	port := udp.LocalAddr().(*net.UDPAddr).Port
	if c.rtp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	c.ua, _ = sipgo.NewUA(sipgo.WithUserAgent("caller"), sipgo.WithUserAgentHostname("127.0.0.1"))
	srv, _ := sipgo.NewServer(c.ua, sipgo.WithServerLogger(quiet))
	c.client, _ = sipgo.NewClient(c.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(port),
		sipgo.WithClientLogger(quiet))
	c.dlgs = sipgo.NewDialogClientCache(c.client, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: port}})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		c.byes <- req
		if err := c.dlgs.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ServeUDP(udp)
	}()
	t.Cleanup(func() {
		c.ua.Close()
		udp.Close()
		c.rtp.Close()
		<-done
	})
	return c
}

// offerSDP is an offer from the caller's RTP socket.
func (c *caller) offerSDP(dir string, formats string, extra ...string) []byte {
	p := c.rtp.LocalAddr().(*net.UDPAddr).Port
	s := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %s\r\n", p, formats)
	for _, e := range extra {
		s += e + "\r\n"
	}
	if dir != "" {
		s += "a=" + dir + "\r\n"
	}
	return []byte(s)
}

var basicFormats = []string{"a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:18 G729/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16"}

// invite calls the echo and returns the final response (the session is
// kept when it is 200 and then ACKed).
func (c *caller) invite(s *Service, body []byte) *sip.Response {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	host, port, _ := net.SplitHostPort(s.Addr())
	uri := sip.Uri{Scheme: "sip", User: "echo", Host: host}
	fmt.Sscan(port, &uri.Port)
	sess, err := c.dlgs.Invite(ctx, uri, body, sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		c.t.Fatal(err)
	}
	err = sess.WaitAnswer(ctx, sipgo.AnswerOptions{})
	if err != nil {
		if e, ok := err.(*sipgo.ErrDialogResponse); ok {
			return e.Res
		}
		if sess.InviteResponse != nil && sess.InviteResponse.StatusCode >= 300 {
			return sess.InviteResponse
		}
		c.t.Fatal(err)
	}
	if err := sess.Ack(ctx); err != nil {
		c.t.Fatal(err)
	}
	c.sess = sess
	return sess.InviteResponse
}

// reinvite sends an offer in the dialog, ACKs a 200 and returns the answer.
func (c *caller) reinvite(body []byte) *sip.Response {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := sip.NewRequest(sip.INVITE, c.sess.InviteRequest.Recipient)
	req.SetBody(body)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res, err := c.sess.Do(ctx, req)
	if err != nil {
		c.t.Fatal(err)
	}
	if res.StatusCode == 200 {
		ack := sip.NewRequest(sip.ACK, c.sess.InviteRequest.Recipient)
		if err := c.sess.WriteRequest(ack); err != nil {
			c.t.Fatal(err)
		}
	}
	return res
}

// bye hangs up and returns the status.
func (c *caller) bye() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.sess.Bye(ctx)
}

// answerPort reads the audio port of an SDP answer.
func answerPort(t *testing.T, res *sip.Response) int {
	t.Helper()
	for _, l := range strings.Split(string(res.Body()), "\r\n") {
		if strings.HasPrefix(l, "m=audio ") {
			var p int
			fmt.Sscanf(l, "m=audio %d", &p)
			return p
		}
	}
	t.Fatalf("no m=audio in %q", res.Body())
	return 0
}

// sendRTP sends n packets of payload type pt from the caller's socket to
// port and returns the payloads sent.
func (c *caller) sendRTP(port int, pt uint8, n int) [][]byte {
	var sent [][]byte
	for i := 0; i < n; i++ {
		c.seq++
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: c.seq, Timestamp: uint32(c.seq) * 160, SSRC: 0xCA11E4},
			Payload: []byte(fmt.Sprintf("frame-%d-%d", c.seq, pt))}
		b, _ := p.Marshal()
		if _, err := c.rtp.WriteToUDP(b, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err != nil {
			c.t.Fatal(err)
		}
		sent = append(sent, p.Payload)
	}
	return sent
}

// recvRTP reads RTP packets until none comes for wait.
func (c *caller) recvRTP(wait time.Duration) []rtp.Packet {
	var got []rtp.Packet
	buf := make([]byte, 1500)
	for i := 0; i < 1000; i++ {
		_ = c.rtp.SetReadDeadline(time.Now().Add(wait))
		n, _, err := c.rtp.ReadFromUDP(buf)
		if err != nil {
			break
		}
		var p rtp.Packet
		if err := p.Unmarshal(append([]byte(nil), buf[:n]...)); err == nil {
			got = append(got, p)
		}
	}
	return got
}

// expectEcho sends packets and checks they all come back, payload and
// payload type unchanged, with the echo's own SSRC.
func (c *caller) expectEcho(port int, pt uint8) {
	c.t.Helper()
	sent := c.sendRTP(port, pt, 20)
	got := c.recvRTP(300 * time.Millisecond)
	if len(got) != len(sent) {
		c.t.Fatalf("%d packets echoed, sent %d", len(got), len(sent))
	}
	for i, p := range got {
		if string(p.Payload) != string(sent[i]) || p.PayloadType != pt || p.SSRC == 0xCA11E4 {
			c.t.Fatalf("echo %d: pt %d ssrc %x payload %q, sent %q", i, p.PayloadType, p.SSRC, p.Payload, sent[i])
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func hasLine(res *sip.Response, line string) bool {
	return strings.Contains(string(res.Body()), "\r\n"+line+"\r\n")
}

func TestEchoCall(t *testing.T) {
	base := runtime.NumGoroutine()
	// Cleanups run last-in first-out: this one runs after the service and
	// the caller stopped; then no goroutine of theirs is left.
	t.Cleanup(func() {
		for i := 0; i < 100 && runtime.NumGoroutine() > base; i++ {
			time.Sleep(50 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
	})
	func() {
		s := startEcho(t, nil)
		c := newCaller(t)
		res := c.invite(s, c.offerSDP("", "0 8 18 101", basicFormats...))
		if res.StatusCode != 200 {
			t.Fatalf("INVITE: %d %s", res.StatusCode, res.Reason)
		}
		if !hasLine(res, "m=audio "+fmt.Sprint(answerPort(t, res))+" RTP/AVP 0 8 101") || !hasLine(res, "a=sendrecv") ||
			!hasLine(res, "a=rtpmap:101 telephone-event/8000") || !hasLine(res, "a=fmtp:101 0-16") || !hasLine(res, "c=IN IP4 127.0.0.1") {
			t.Fatalf("answer:\n%s", res.Body())
		}
		port := answerPort(t, res)
		c.expectEcho(port, 0)
		c.expectEcho(port, 101) // telephone-event is reflected too

		// Garbage is dropped and counted; the call goes on.
		garbage := s.Stats().Garbage.Load()
		_, _ = c.rtp.WriteToUDP([]byte("not rtp at all"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		_, _ = c.rtp.WriteToUDP([]byte{0x80}, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		waitFor(t, "garbage counted", func() bool { return s.Stats().Garbage.Load() == garbage+2 })
		c.expectEcho(port, 8)

		// Hold: sendonly -> recvonly, nothing comes back.
		res = c.reinvite(c.offerSDP("sendonly", "0 101", basicFormats...))
		if res.StatusCode != 200 || !hasLine(res, "a=recvonly") || answerPort(t, res) != port {
			t.Fatalf("hold: %d\n%s", res.StatusCode, res.Body())
		}
		c.sendRTP(port, 0, 5)
		if got := c.recvRTP(200 * time.Millisecond); len(got) != 0 {
			t.Fatalf("%d packets echoed on hold", len(got))
		}
		res = c.reinvite(c.offerSDP("inactive", "0", basicFormats...))
		if res.StatusCode != 200 || !hasLine(res, "a=inactive") {
			t.Fatalf("inactive: %d\n%s", res.StatusCode, res.Body())
		}
		// Resume.
		res = c.reinvite(c.offerSDP("sendrecv", "0 8", basicFormats...))
		if res.StatusCode != 200 || !hasLine(res, "a=sendrecv") || !strings.Contains(string(res.Body()), "o=parley-echo ") {
			t.Fatalf("resume: %d\n%s", res.StatusCode, res.Body())
		}
		c.expectEcho(port, 8)
		// An unacceptable re-offer changes nothing.
		if res = c.reinvite(c.offerSDP("", "18", basicFormats...)); res.StatusCode != 488 {
			t.Fatalf("re-offer G.729 only: %d", res.StatusCode)
		}
		c.expectEcho(port, 0)

		if err := c.bye(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "call released", func() bool { return s.Stats().Active.Load() == 0 })
		for _, p := range []int{port, port + 1} {
			l, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			if err != nil {
				t.Fatalf("port %d still held: %v", p, err)
			}
			l.Close()
		}
		// The dialog is gone: a second BYE and a re-INVITE get 481.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		bye := sip.NewRequest(sip.BYE, c.sess.InviteRequest.Recipient)
		r, err := c.sess.Do(ctx, bye)
		if err != nil || r.StatusCode != 481 {
			t.Fatalf("BYE after the end: %v %v", r, err)
		}
		if s.Stats().Calls.Load() != 1 || s.Stats().RTPOut.Load() < 80 {
			t.Fatalf("stats %v", s.Stats().LogValue())
		}
	}()
}

// inviteNoSDP calls the echo with an INVITE without a body (a late offer)
// and returns the 200, not yet ACKed: the caller answers in the ACK.
func (c *caller) inviteNoSDP(s *Service) *sip.Response {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	host, port, _ := net.SplitHostPort(s.Addr())
	uri := sip.Uri{Scheme: "sip", User: "echo", Host: host}
	fmt.Sscan(port, &uri.Port)
	sess, err := c.dlgs.Invite(ctx, uri, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := sess.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		c.t.Fatalf("INVITE without SDP: %v", err)
	}
	c.sess = sess
	return sess.InviteResponse
}

// ackWith ACKs the 200 of c.sess with body as the SDP answer (none when
// body is nil).
func (c *caller) ackWith(body []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res := c.sess.InviteResponse
	ack := sip.NewRequest(sip.ACK, res.Contact().Address)
	if body != nil {
		ack.SetBody(body)
		ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	if err := c.sess.WriteAck(ctx, ack); err != nil {
		c.t.Fatal(err)
	}
}

// checkGoroutines fails the test if, once every cleanup registered after
// it ran (the service and the callers stopped), more goroutines run than
// before.
func checkGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		for i := 0; i < 100 && runtime.NumGoroutine() > base; i++ {
			time.Sleep(50 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
	})
}

// portsFree fails unless the RTP port and its RTCP neighbour can be bound.
func portsFree(t *testing.T, port int) {
	t.Helper()
	for _, p := range []int{port, port + 1} {
		l, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err != nil {
			t.Fatalf("port %d still held: %v", p, err)
		}
		l.Close()
	}
}
