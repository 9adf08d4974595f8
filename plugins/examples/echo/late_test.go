package echo

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// TestLateOffer: an INVITE without SDP gets a 200 carrying the echo's
// offer (RFC 3261 13.2.1); the answer in the ACK sets where the echo
// sends, and the call echoes.
func TestLateOffer(t *testing.T) {
	checkGoroutines(t)
	s := startEcho(t, nil)
	c := newCaller(t)
	res := c.inviteNoSDP(s)
	if res.StatusCode != 200 {
		t.Fatalf("INVITE without SDP: %d %s", res.StatusCode, res.Reason)
	}
	if ct := res.ContentType(); ct == nil || ct.Value() != "application/sdp" {
		t.Fatalf("200 without an SDP offer: %v\n%s", ct, res.Body())
	}
	port := answerPort(t, res)
	for _, l := range []string{"m=audio " + itoa(port) + " RTP/AVP 0 8 9 111 101", "c=IN IP4 127.0.0.1", "a=sendrecv",
		"a=rtpmap:0 PCMU/8000", "a=rtpmap:111 opus/48000/2", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=ptime:20"} {
		if !hasLine(res, l) {
			t.Fatalf("offer without %q:\n%s", l, res.Body())
		}
	}
	// Nothing is echoed before the answer says where to.
	c.sendRTP(port, 0, 3)
	if got := c.recvRTP(150 * time.Millisecond); len(got) != 0 {
		t.Fatalf("%d packets echoed before the answer", len(got))
	}
	c.ackWith(c.offerSDP("sendrecv", "8 101", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000"))
	waitFor(t, "call counted", func() bool { return s.Stats().Calls.Load() == 1 })
	c.expectEcho(port, 8)
	c.expectEcho(port, 101)
	if n := s.Stats().NoAnswer.Load(); n != 0 {
		t.Fatalf("%d late offers counted unanswered", n)
	}
	// A re-INVITE with an offer works as on any call.
	if res := c.reinvite(c.offerSDP("sendonly", "8", "a=rtpmap:8 PCMA/8000")); res.StatusCode != 200 || !hasLine(res, "a=recvonly") {
		t.Fatalf("hold after a late offer: %d\n%s", res.StatusCode, res.Body())
	}
	if err := c.bye(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "call released", func() bool { return s.Stats().Active.Load() == 0 })
	portsFree(t, port)
}

// TestLateOfferBadAnswer: an ACK without SDP, or with an answer the echo
// cannot use, ends the call with a BYE (through the link, with its
// token) and releases it.
func TestLateOfferBadAnswer(t *testing.T) {
	tests := []struct {
		name string
		body func(c *caller) []byte
	}{
		{"no SDP in the ACK", func(*caller) []byte { return nil }},
		{"not SDP", func(*caller) []byte { return []byte("v=0\r\nnonsense") }},
		{"codec not offered", func(c *caller) []byte { return c.offerSDP("", "18", "a=rtpmap:18 G729/8000") }},
		{"payload type renumbered", func(c *caller) []byte { return c.offerSDP("", "96", "a=rtpmap:96 opus/48000/2") }},
		{"encoding swapped", func(c *caller) []byte { return c.offerSDP("", "8", "a=rtpmap:8 PCMU/8000") }},
		{"audio rejected", func(*caller) []byte {
			return []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n")
		}},
		{"two streams", func(c *caller) []byte {
			return append(c.offerSDP("", "0"), []byte("m=video 0 RTP/AVP 96\r\n")...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			s := startEcho(t, nil)
			c := newCaller(t)
			res := c.inviteNoSDP(s)
			if res.StatusCode != 200 {
				t.Fatalf("INVITE without SDP: %d", res.StatusCode)
			}
			port := answerPort(t, res)
			c.ackWith(tt.body(c))
			select {
			case bye := <-c.byes:
				if h := bye.GetHeader(sdk.LinkHeader); h == nil || h.Value() != "tok-123" {
					t.Fatalf("BYE without the link token:\n%s", bye)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no BYE after an unusable answer")
			}
			waitFor(t, "call released", func() bool { return s.Stats().Active.Load() == 0 })
			if s.Stats().NoAnswer.Load() != 1 || s.Stats().Calls.Load() != 0 {
				t.Fatalf("stats %v", s.Stats().LogValue())
			}
			portsFree(t, port)
		})
	}
}

// TestAnswerDelay: with answer-delay the echo rings (180) first, then
// answers 200.
func TestAnswerDelay(t *testing.T) {
	s := startEcho(t, map[string]string{"answer-delay": "300ms"})
	c := newCaller(t)
	start := time.Now()
	var codes []int
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sess := c.startInvite(ctx, s)
	err := sess.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
		codes = append(codes, r.StatusCode)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	// sipgo may hand the 100 over after the 180: only 180 before 200 counts.
	if took := time.Since(start); took < 300*time.Millisecond || len(codes) < 2 || !slices.Contains(codes[:len(codes)-1], 180) || codes[len(codes)-1] != 200 {
		t.Fatalf("responses %v after %v, want 180 then 200 after 300ms", codes, took)
	}
	if err := sess.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	c.sess = sess
	c.expectEcho(answerPort(t, sess.InviteResponse), 0)
	if err := c.bye(); err != nil {
		t.Fatal(err)
	}
}

// TestCancelWhileRinging: a CANCEL before the 200 gets 200, the INVITE
// 487, and the echo keeps no call, port or goroutine.
func TestCancelWhileRinging(t *testing.T) {
	checkGoroutines(t)
	// One port pair, so that a leaked one is seen.
	s := startEcho(t, map[string]string{"answer-delay": "10s", "rtp-ports": "41300-41301"})
	c := newCaller(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	sess := c.startInvite(ctx, s)
	ringing := make(chan struct{})
	var once sync.Once
	answerCtx, hangUp := context.WithCancel(ctx)
	go func() {
		select {
		case <-ringing:
		case <-time.After(5 * time.Second):
		}
		hangUp() // WaitAnswer sends CANCEL
	}()
	err := sess.WaitAnswer(answerCtx, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
		if r.StatusCode == 180 {
			once.Do(func() { close(ringing) })
		}
		return nil
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitAnswer: %v", err)
	}
	if sess.InviteResponse == nil || sess.InviteResponse.StatusCode != 487 {
		t.Fatalf("INVITE answered %v, want 487", sess.InviteResponse)
	}
	waitFor(t, "call released", func() bool { return s.Stats().Active.Load() == 0 })
	st := s.Stats()
	if st.Cancelled.Load() != 1 || st.Calls.Load() != 0 || st.Sockets.Load() != 0 || st.Goroutines.Load() != 0 {
		t.Fatalf("stats %v", st.LogValue())
	}
	portsFree(t, 41300)
}

// TestCloseWhileRinging: closing the service answers a ringing call 480
// and does not wait for the delay.
func TestCloseWhileRinging(t *testing.T) {
	s := startEcho(t, map[string]string{"answer-delay": "20s"})
	c := newCaller(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess := c.startInvite(ctx, s)
	done := make(chan error, 1)
	go func() { done <- sess.WaitAnswer(ctx, sipgo.AnswerOptions{}) }()
	waitFor(t, "ringing", func() bool { return s.Stats().Active.Load() == 1 })
	start := time.Now()
	s.Close(ctx)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Close took %v", took)
	}
	select {
	case err := <-done:
		var e *sipgo.ErrDialogResponse
		if !errors.As(err, &e) || e.Res.StatusCode != 480 {
			t.Fatalf("WaitAnswer: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no final response after Close")
	}
	if s.Stats().Active.Load() != 0 || s.Stats().Sockets.Load() != 0 {
		t.Fatalf("stats %v", s.Stats().LogValue())
	}
}

// TestHoldDirections: every offered direction in a re-INVITE gets the
// RFC 3264 section 6.1 answer, on the same port, and the echo sends back
// only when both sides send (sendrecv).
func TestHoldDirections(t *testing.T) {
	s := startEcho(t, nil)
	c := newCaller(t)
	res := c.invite(s, c.offerSDP("", "0", basicFormats...))
	if res.StatusCode != 200 {
		t.Fatal(res.StatusCode)
	}
	port := answerPort(t, res)
	for _, tt := range []struct {
		offer, answer string
		echoes        bool
	}{
		{"sendonly", "recvonly", false},
		{"sendrecv", "sendrecv", true},
		{"recvonly", "sendonly", false},
		{"inactive", "inactive", false},
		{"sendrecv", "sendrecv", true},
		{"", "sendrecv", true}, // no attribute: sendrecv
	} {
		res := c.reinvite(c.offerSDP(tt.offer, "0", basicFormats...))
		if res.StatusCode != 200 || !hasLine(res, "a="+tt.answer) || answerPort(t, res) != port {
			t.Fatalf("offer %q: %d\n%s", tt.offer, res.StatusCode, res.Body())
		}
		if n := strings.Count(string(res.Body()), "a=send") + strings.Count(string(res.Body()), "a=recv") + strings.Count(string(res.Body()), "a=inactive"); n != 1 {
			t.Fatalf("offer %q: %d direction attributes\n%s", tt.offer, n, res.Body())
		}
		sent := c.sendRTP(port, 0, 5)
		got := c.recvRTP(150 * time.Millisecond)
		if tt.echoes && len(got) != len(sent) || !tt.echoes && len(got) != 0 {
			t.Fatalf("offer %q: %d of %d echoed", tt.offer, len(got), len(sent))
		}
	}
	if err := c.bye(); err != nil {
		t.Fatal(err)
	}
}

// startInvite sends an INVITE with an offer and returns the session
// before any answer.
func (c *caller) startInvite(ctx context.Context, s *Service) *sipgo.DialogClientSession {
	c.t.Helper()
	host, port, _ := net.SplitHostPort(s.Addr())
	uri := sip.Uri{Scheme: "sip", User: "echo", Host: host, Port: atoi(port)}
	sess, err := c.dlgs.Invite(ctx, uri, c.offerSDP("", "0", basicFormats...), sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		c.t.Fatal(err)
	}
	return sess
}

func itoa(n int) string { return strconv.Itoa(n) }
