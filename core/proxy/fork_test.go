package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/transport"
	"github.com/parley-rtc/parley/internal/testport"
)

// The fork tests run the proxy over a real sipgo transaction layer on
// 127.0.0.1 against fake endpoints: UDP sockets that answer an INVITE
// by a script and record what they receive.

// endpoint is a fake UA. Its script: the responses it sends to an
// INVITE, in order, each after its delay; a CANCEL is answered 200 and
// the INVITE then 487 (unless it was answered already).
type endpoint struct {
	t      *testing.T
	conn   net.PacketConn
	script []step
	mu     sync.Mutex
	got    []string // methods received, first of each (retransmissions left out)
	seen   map[string]bool
	invite *sip.Request
	final  bool
	from   net.Addr
	silent bool // answers nothing
}

type step struct {
	after time.Duration
	code  int
}

func newEndpoint(t *testing.T, script ...step) *endpoint {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &endpoint{t: t, conn: conn, script: script, seen: map[string]bool{}}
	t.Cleanup(func() { _ = conn.Close() })
	go e.serve()
	return e
}

func (e *endpoint) addr() string { return e.conn.LocalAddr().String() }

func (e *endpoint) target() Target {
	var u sip.Uri
	_ = sip.ParseUri("sip:bob@"+e.addr(), &u)
	return Target{URI: u, Dest: e.addr(), Transport: "UDP"}
}

func (e *endpoint) received() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.got...)
}

func (e *endpoint) has(method string) bool {
	for _, m := range e.received() {
		if m == method {
			return true
		}
	}
	return false
}

func (e *endpoint) serve() {
	buf := make([]byte, 65535)
	parser := sip.NewParser()
	for {
		n, from, err := e.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		msg, err := parser.ParseSIP(append([]byte(nil), buf[:n]...))
		if err != nil {
			continue
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			continue
		}
		br, _ := req.Via().Params.Get("branch")
		key := string(req.Method) + " " + br
		e.mu.Lock()
		dup := e.seen[key]
		e.seen[key] = true
		if !dup {
			e.got = append(e.got, string(req.Method))
		}
		e.from = from
		silent := e.silent
		e.mu.Unlock()
		if dup || silent {
			continue
		}
		switch req.Method {
		case sip.INVITE:
			e.mu.Lock()
			e.invite = req
			e.mu.Unlock()
			e.respond(req, 100)
			go e.play(req)
		case sip.CANCEL:
			e.respond(req, 200)
			e.mu.Lock()
			inv, done := e.invite, e.final
			e.final = true
			e.mu.Unlock()
			if inv != nil && !done {
				e.respond(inv, 487)
			}
		}
	}
}

func (e *endpoint) play(req *sip.Request) {
	for _, s := range e.script {
		time.Sleep(s.after)
		e.mu.Lock()
		done := e.final
		if s.code >= 200 {
			e.final = true
		}
		e.mu.Unlock()
		if done {
			return
		}
		e.respond(req, s.code)
	}
}

func (e *endpoint) respond(req *sip.Request, code int) {
	res := sip.NewResponseFromRequest(req, code, "", nil)
	if code > 100 && req.Method == sip.INVITE {
		res.To().Params.Add("tag", "t-"+e.addr())
	}
	if code == 407 {
		res.AppendHeader(sip.NewHeader("Proxy-Authenticate", `Digest realm="`+e.addr()+`", nonce="n"`))
	}
	v := req.Via()
	to, err := net.ResolveUDPAddr("udp", fmt.Sprintf("%s:%d", v.Host, v.Port))
	if err != nil {
		return
	}
	_, _ = e.conn.WriteTo([]byte(res.String()), to)
}

// callerTx is the caller's server transaction: it records what the
// proxy answers and lets the test CANCEL.
type callerTx struct {
	sip.ServerTransaction
	mu       sync.Mutex
	sent     []*sip.Response
	onCancel sip.FnTxCancel
}

func (c *callerTx) Respond(res *sip.Response) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, res)
	return nil
}

func (c *callerTx) OnCancel(f sip.FnTxCancel) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onCancel = f
	return true
}

func (c *callerTx) cancel() {
	c.mu.Lock()
	f := c.onCancel
	c.mu.Unlock()
	if f != nil {
		f(nil)
	}
}

func (c *callerTx) codes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int
	for _, r := range c.sent {
		out = append(out, r.StatusCode)
	}
	return out
}

func (c *callerTx) finals() []*sip.Response {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*sip.Response
	for _, r := range c.sent {
		if !r.IsProvisional() {
			out = append(out, r)
		}
	}
	return out
}

func testProxy(t *testing.T) *Proxy {
	t.Helper()
	ports, err := testport.Free(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.DiscardHandler)
	ls := transport.NewSet(log)
	if err := ls.Open(ctx, srv, []transport.Spec{{Scheme: "udp", Host: "127.0.0.1", Port: ports[0]}}, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ls.Close(); cancel(); _ = ua.Close() })
	// The listener serves in the background: wait until sipgo knows it
	// (forwarded copies leave from its socket).
	eventually(t, "the listener serves", func() bool {
		c, err := ua.TransportLayer().GetConnection("udp", fmt.Sprintf("127.0.0.1:%d", ports[0]))
		return err == nil && c != nil
	})
	return New(Config{InviteTimeout: 20 * time.Second}, ua.TransactionLayer(), ls, func() []byte { return []byte("s") }, log)
}

func callerInvite(t *testing.T) *sip.Request {
	t.Helper()
	raw := "INVITE sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-caller" + t.Name() + "\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\n" +
		"Call-ID: fork-" + t.Name() + "\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.9:5060>\r\nContent-Length: 0\r\n\r\n"
	msg, err := sip.NewParser().ParseSIP([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return msg.(*sip.Request)
}

// fork runs Fork to the endpoints with a deadline and returns the result.
func fork(t *testing.T, p *Proxy, tx *callerTx, eps ...*endpoint) ForkResult {
	t.Helper()
	ts := make([]Target, len(eps))
	for i, e := range eps {
		ts[i] = e.target()
	}
	return forkTo(t, p, tx, ts)
}

func forkTo(t *testing.T, p *Proxy, tx *callerTx, ts []Target) ForkResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := p.Fork(ctx, callerInvite(t), tx, ts, true, nil)
	if ctx.Err() != nil {
		t.Fatal("fork ran into the test's deadline")
	}
	return res
}

// eventually waits (bounded) for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 100 {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("never: %s", what)
}

// TestForkFirst2xxWins: both endpoints ring, the caller sees their 180s;
// the one that answers gets the call, the other gets CANCEL.
func TestForkFirst2xxWins(t *testing.T) {
	p := testProxy(t)
	ringer := newEndpoint(t, step{0, 180})
	answerer := newEndpoint(t, step{0, 180}, step{300 * time.Millisecond, 200})
	tx := &callerTx{}
	res := fork(t, p, tx, ringer, answerer)
	if !res.Answered || res.Winner != 1 {
		t.Fatalf("result %+v", res)
	}
	finals := tx.finals()
	if len(finals) != 1 || finals[0].StatusCode != 200 {
		t.Fatalf("caller got %v", tx.codes())
	}
	if tag, _ := finals[0].To().Params.Get("tag"); tag != "t-"+answerer.addr() {
		t.Fatalf("the 200 is not the answerer's: tag %q", tag)
	}
	if n := strings.Count(fmt.Sprint(tx.codes()), "180"); n != 2 {
		t.Fatalf("caller got %v, want both 180s", tx.codes())
	}
	if !ringer.has("CANCEL") || answerer.has("CANCEL") {
		t.Fatalf("ringer got %v, answerer %v", ringer.received(), answerer.received())
	}
	eventually(t, "the cancelled branch ACKs its 487", func() bool { return ringer.has("ACK") })
}

// TestFork6xxStopsAll: a 603 from one endpoint goes to the caller at
// once and the other, still ringing, is cancelled.
func TestFork6xxStopsAll(t *testing.T) {
	p := testProxy(t)
	ringer := newEndpoint(t, step{0, 180})
	decliner := newEndpoint(t, step{0, 180}, step{200 * time.Millisecond, 603})
	tx := &callerTx{}
	res := fork(t, p, tx, ringer, decliner)
	finals := tx.finals()
	if !res.Answered || res.Winner != -1 || len(finals) != 1 || finals[0].StatusCode != 603 {
		t.Fatalf("result %+v, caller got %v", res, tx.codes())
	}
	if !ringer.has("CANCEL") {
		t.Fatalf("ringer got %v", ringer.received())
	}
}

// TestForkBestResponse: when none answers 2xx, the caller gets the best
// final response: a busy endpoint's 486 beats a silent one (given up
// after its failover timer) and an unavailable one; 503 becomes 500;
// challenges are merged.
func TestForkBestResponse(t *testing.T) {
	p := testProxy(t)
	silent := func() Target {
		e := newEndpoint(t)
		e.mu.Lock()
		e.silent = true // not even 100 Trying: the failover timer gives it up
		e.mu.Unlock()
		tg := e.target()
		tg.NoAnswer = 300 * time.Millisecond
		return tg
	}
	cases := []struct {
		name    string
		targets func() []Target
		want    int
	}{
		{"busy beats unavailable and silent", func() []Target {
			return []Target{newEndpoint(t, step{0, 480}).target(), silent(), newEndpoint(t, step{100 * time.Millisecond, 486}).target()}
		}, 486},
		{"a silent branch's 408 beats a 503", func() []Target {
			return []Target{newEndpoint(t, step{0, 503}).target(), silent()}
		}, 408},
		{"503 alone becomes 500", func() []Target {
			return []Target{newEndpoint(t, step{0, 503}).target(), newEndpoint(t, step{0, 503}).target()}
		}, 500},
		{"3xx beats 4xx", func() []Target {
			return []Target{newEndpoint(t, step{0, 486}).target(), newEndpoint(t, step{0, 302}).target()}
		}, 302},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tx := &callerTx{}
			res := forkTo(t, p, tx, tc.targets())
			finals := tx.finals()
			if !res.Answered || len(finals) != 1 || finals[0].StatusCode != tc.want {
				t.Fatalf("result %+v, caller got %v, want %d", res, tx.codes(), tc.want)
			}
		})
	}
	t.Run("challenges merged", func(t *testing.T) {
		tx := &callerTx{}
		a, b := newEndpoint(t, step{0, 407}), newEndpoint(t, step{0, 407})
		fork(t, p, tx, a, b)
		finals := tx.finals()
		if len(finals) != 1 || finals[0].StatusCode != 407 || len(finals[0].GetHeaders("Proxy-Authenticate")) != 2 {
			t.Fatalf("caller got %v", tx.codes())
		}
	})
	t.Run("nobody answers: left to the caller", func(t *testing.T) {
		tx := &callerTx{}
		res := forkTo(t, p, tx, []Target{silent(), silent()})
		if res.Answered || len(tx.sent) != 0 || !errors.Is(res.Err(), ErrTimeout) || res.Errs[0] == nil || res.Errs[1] == nil {
			t.Fatalf("result %+v, caller got %v", res, tx.codes())
		}
	})
}

// TestForkCallerCancels: the caller's CANCEL reaches every ringing
// branch.
func TestForkCallerCancels(t *testing.T) {
	p := testProxy(t)
	a, b := newEndpoint(t, step{0, 180}), newEndpoint(t, step{0, 183})
	tx := &callerTx{}
	go func() {
		eventually(t, "both ring", func() bool { return len(tx.codes()) >= 2 })
		tx.cancel()
	}()
	res := fork(t, p, tx, a, b)
	if !res.Answered || res.Winner != -1 || !a.has("CANCEL") || !b.has("CANCEL") {
		t.Fatalf("result %+v; a got %v, b %v", res, a.received(), b.received())
	}
}

// TestBetter: the response ranking (RFC 3261 16.7 step 6).
func TestBetter(t *testing.T) {
	for _, tc := range []struct {
		code, cur int
		want      bool
	}{
		{486, 0, true}, {302, 486, true}, {486, 302, false}, {486, 480, true}, {480, 408, true},
		{407, 486, true}, {404, 486, false}, {500, 408, false}, {420, 404, true},
	} {
		if got := better(tc.code, tc.cur); got != tc.want {
			t.Errorf("better(%d, %d) = %v", tc.code, tc.cur, got)
		}
	}
}
