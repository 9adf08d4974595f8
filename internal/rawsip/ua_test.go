package rawsip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-rtc/parley/core/auth"
)

// responder is a tiny UDP SIP server on 127.0.0.1: answer picks the response
// to each request it reads (nil: stay silent); every request is kept.
type responder struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  []*Msg
}

func newResponder(t *testing.T, answer func(n int, m *Msg) string) *responder {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &responder{conn: conn}
	done := make(chan struct{})
	t.Cleanup(func() { conn.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			m, err := Parse(buf[:n])
			if err != nil {
				continue
			}
			r.mu.Lock()
			r.got = append(r.got, m)
			count := len(r.got)
			r.mu.Unlock()
			if res := answer(count, m); res != "" {
				_, _ = conn.WriteToUDP([]byte(res), from)
			}
		}
	}()
	return r
}

func (r *responder) addr() *net.UDPAddr { return r.conn.LocalAddr().(*net.UDPAddr) }

func (r *responder) requests() []*Msg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Msg(nil), r.got...)
}

// response answers req with code and extra header lines.
func response(req *Msg, code int, reason string, extra ...string) string {
	res := req.Reply(code, reason, "srv")
	head, _, _ := strings.Cut(res, "Content-Length: 0\r\n")
	for _, h := range extra {
		head += h + "\r\n"
	}
	return head + "Content-Length: 0\r\n\r\n"
}

func TestSendAnswersOneDigestChallenge(t *testing.T) {
	const realm, nonce = "rawsip.test", "n0nce"
	srv := newResponder(t, func(n int, m *Msg) string {
		if m.Header("Authorization") == "" {
			return response(m, 401, "Unauthorized", fmt.Sprintf(`WWW-Authenticate: Digest realm="%s", nonce="%s", qop="auth", algorithm=MD5`, realm, nonce))
		}
		return response(m, 200, "OK")
	})
	ua, err := Listen(Config{Server: srv.addr(), User: "alice", Password: "secret", BranchPrefix: "z9hG4bK-t-", UserAgent: "rawsip-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	r := &Request{Method: "REGISTER", RURI: "sip:rawsip.test", From: "<sip:alice@rawsip.test>;tag=1", To: "<sip:alice@rawsip.test>",
		CallID: "c1", CSeq: 1, Headers: []string{"Contact: <sip:alice@" + ua.Local() + ">"}}
	res, err := ua.Send(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 200 {
		t.Fatalf("final response %d:\n%s", res.Code, res.Raw)
	}
	if r.CSeq != 3 {
		t.Errorf("CSeq after two transactions = %d, want 3", r.CSeq)
	}
	got := srv.requests()
	if len(got) != 2 {
		t.Fatalf("server saw %d requests, want 2", len(got))
	}
	first, second := got[0], got[1]
	if first.Branch() == second.Branch() || !strings.HasPrefix(second.Branch(), "z9hG4bK-t-") {
		t.Errorf("branches %q and %q: want two fresh ones with the prefix", first.Branch(), second.Branch())
	}
	if first.Header("CSeq") != "1 REGISTER" || second.Header("CSeq") != "2 REGISTER" {
		t.Errorf("CSeqs %q, %q", first.Header("CSeq"), second.Header("CSeq"))
	}
	if second.Header("User-Agent") != "rawsip-test" || !strings.Contains(second.Header("Via"), ua.Local()) {
		t.Errorf("User-Agent %q, Via %q", second.Header("User-Agent"), second.Header("Via"))
	}
	cred, err := auth.ParseCredentials(second.Header("Authorization"))
	if err != nil {
		t.Fatalf("Authorization %q: %v", second.Header("Authorization"), err)
	}
	want := auth.Response(auth.MD5, auth.HA1(auth.MD5, "alice", realm, "secret"), "REGISTER", cred.URI, nonce, cred.NC, cred.CNonce, cred.QOP)
	if cred.Username != "alice" || cred.Realm != realm || cred.URI != "sip:rawsip.test" || cred.Response != want {
		t.Errorf("credentials %+v do not answer the challenge (want response %s)", cred, want)
	}
}

func TestSendNoAuthReturnsChallenge(t *testing.T) {
	srv := newResponder(t, func(n int, m *Msg) string {
		return response(m, 407, "Proxy Authentication Required", `Proxy-Authenticate: Digest realm="r", nonce="n"`)
	})
	ua, err := Listen(Config{Server: srv.addr(), User: "bob", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	res, err := ua.Send(context.Background(), &Request{Method: "MESSAGE", RURI: "sip:x", From: "<sip:bob@x>;tag=1", To: "<sip:x>", CallID: "c", CSeq: 1, NoAuth: true})
	if err != nil || res.Code != 407 {
		t.Fatalf("got %v, %v; want the 407", res, err)
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

func TestTransactionEndsOnContextAndClose(t *testing.T) {
	srv := newResponder(t, func(int, *Msg) string { return "" }) // never answers
	ua, err := Listen(Config{Server: srv.addr(), User: "u", Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	r := &Request{Method: "OPTIONS", RURI: "sip:x", From: "<sip:u@x>;tag=1", To: "<sip:x>", CallID: "c", CSeq: 1}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := ua.Transaction(ctx, r); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("with an expired context: %v", err)
	}
	if r.CSeq != 1 {
		t.Errorf("CSeq advanced to %d without a final response", r.CSeq)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := ua.Transaction(context.Background(), r)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	ua.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("transaction still running after Close")
	}
}

func TestIncomingRequestsGoToHandle(t *testing.T) {
	handled := make(chan *Msg, 1)
	ua, err := Listen(Config{User: "w", Handle: func(u *UA, m *Msg, from *net.UDPAddr) {
		_ = u.WriteTo([]byte(m.Reply(200, "OK", "w1")), from)
		handled <- m
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	conn, err := net.DialUDP("udp", nil, ua.conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	notify := "NOTIFY sip:w@x SIP/2.0\r\nVia: SIP/2.0/UDP " + conn.LocalAddr().String() + ";branch=z9hG4bK-n\r\n" +
		"From: <sip:p@x>;tag=p\r\nTo: <sip:w@x>;tag=w\r\nCall-ID: d\r\nCSeq: 1 NOTIFY\r\nContent-Length: 2\r\n\r\nhi"
	if _, err := conn.Write([]byte("garbage\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte(notify)); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-handled:
		if m.Method != "NOTIFY" || m.Body != "hi" || m.Arrived.IsZero() {
			t.Errorf("handled %q body %q arrived %v", m.Method, m.Body, m.Arrived)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("NOTIFY not handed to Handle")
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Parse(buf[:n])
	if err != nil || res.Code != 200 || res.Branch() != "z9hG4bK-n" || res.Header("To") != "<sip:w@x>;tag=w" {
		t.Errorf("reply %v:\n%s", err, buf[:n])
	}
}
