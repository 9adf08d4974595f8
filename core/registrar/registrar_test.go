package registrar

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/raftnode"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
	"github.com/parley-rtc/parley/core/location"
)

type fixture struct {
	st  *state.State
	w   *statetest.Writer
	loc *location.Service
	reg *Registrar
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := state.New()
	w := statetest.NewWriter(st)
	if _, err := w.Write(context.Background(), state.CmdUserPut, state.UserPut{Users: []state.User{
		{Username: "alice", Domain: "localhost", Enabled: true},
		{Username: "off", Domain: "localhost", Enabled: false},
	}}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	loc := location.New(st, w, "n1", log)
	reg := New(Config{Node: "n1", MinExpires: 60 * time.Second, MaxExpires: time.Hour, DefaultExpires: time.Hour}, st, w, loc, log)
	return &fixture{st: st, w: w, loc: loc, reg: reg}
}

func register(t *testing.T, callID string, cseq int, extra ...string) *sip.Request {
	t.Helper()
	raw := "REGISTER sip:localhost SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK" + fmt.Sprint(cseq) + callID + "\r\n" +
		"From: <sip:alice@localhost>;tag=1\r\nTo: <sip:alice@localhost>\r\n" +
		"Call-ID: " + callID + "\r\nCSeq: " + fmt.Sprint(cseq) + " REGISTER\r\nMax-Forwards: 70\r\n" +
		strings.Join(extra, "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
	raw = strings.ReplaceAll(raw, "\r\n\r\nContent-Length", "\r\nContent-Length")
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, raw)
	}
	return msg.(*sip.Request)
}

func (f *fixture) do(req *sip.Request, aor string) *sip.Response {
	return f.reg.Handle(context.Background(), Request{Req: req, AOR: aor, Identity: aor,
		Flow: Flow{Transport: "UDP", Source: "127.0.0.1:5071", Local: "127.0.0.1:5060"}})
}

func TestRegisterAddRefreshRemove(t *testing.T) {
	f := newFixture(t)
	res := f.do(register(t, "c1", 1, "Contact: <sip:alice@127.0.0.1:5071>", "Expires: 600"), "alice@localhost")
	if res.StatusCode != 200 || len(res.GetHeaders("Contact")) != 1 {
		t.Fatalf("add: %d %v", res.StatusCode, res.GetHeaders("Contact"))
	}
	writes := f.w.Writes()
	// A refresh moves only the expiry: no replicated write, but visible at once.
	res = f.do(register(t, "c1", 2, "Contact: <sip:alice@127.0.0.1:5071>", "Expires: 1200"), "alice@localhost")
	if res.StatusCode != 200 || f.w.Writes() != writes {
		t.Fatalf("refresh: %d, writes %d -> %d", res.StatusCode, writes, f.w.Writes())
	}
	if b := f.loc.Current("alice@localhost"); len(b) != 1 || b[0].Expires-time.Now().Unix() < 1100 {
		t.Fatalf("refresh not visible: %+v", b)
	}
	if f.loc.PendingRefreshes() != 1 {
		t.Fatal("refresh not queued for replication")
	}
	f.loc.Flush(context.Background())
	if b := f.st.Bindings("alice@localhost"); b[0].CSeq != 2 {
		t.Fatalf("refresh not replicated: %+v", b[0])
	}
	// Out of order CSeq for the same Call-ID: 500.
	if res = f.do(register(t, "c1", 2, "Contact: <sip:alice@127.0.0.1:5071>"), "alice@localhost"); res.StatusCode != 500 {
		t.Fatalf("old cseq: %d", res.StatusCode)
	}
	res = f.do(register(t, "c1", 3, "Contact: <sip:alice@127.0.0.1:5071>;expires=0"), "alice@localhost")
	if res.StatusCode != 200 || f.st.BindingCount() != 0 || len(res.GetHeaders("Contact")) != 0 {
		t.Fatalf("remove: %d count %d", res.StatusCode, f.st.BindingCount())
	}
}

func TestRegisterRules(t *testing.T) {
	cases := []struct {
		name  string
		aor   string
		hdrs  []string
		code  int
		check func(*testing.T, *sip.Response, *fixture)
	}{
		{"too brief", "alice@localhost", []string{"Contact: <sip:a@h>", "Expires: 10"}, 423, func(t *testing.T, r *sip.Response, _ *fixture) {
			if r.GetHeader("Min-Expires") == nil || r.GetHeader("Min-Expires").Value() != "60" {
				t.Error("no Min-Expires: 60")
			}
		}},
		{"max cut", "alice@localhost", []string{"Contact: <sip:a@h>;expires=99999"}, 200, func(t *testing.T, _ *sip.Response, f *fixture) {
			if b := f.st.Bindings("alice@localhost"); b[0].Expires-time.Now().Unix() > 3600 {
				t.Errorf("expiry not cut to max: %d", b[0].Expires-time.Now().Unix())
			}
		}},
		{"wildcard needs expires 0", "alice@localhost", []string{"Contact: *", "Expires: 60"}, 400, nil},
		{"wildcard with another contact", "alice@localhost", []string{"Contact: *", "Contact: <sip:a@h>", "Expires: 0"}, 400, nil},
		{"bad q", "alice@localhost", []string{"Contact: <sip:a@h>;q=7"}, 400, nil},
		{"bad expires", "alice@localhost", []string{"Contact: <sip:a@h>", "Expires: soon"}, 400, nil},
		{"disabled user", "off@localhost", []string{"Contact: <sip:a@h>"}, 404, nil},
		{"unknown user", "nobody@localhost", []string{"Contact: <sip:a@h>"}, 404, nil},
		{"query", "alice@localhost", nil, 200, nil},
		{"instance and q", "alice@localhost", []string{`Contact: <sip:a@h>;q=0.5;+sip.instance="<urn:uuid:1>";reg-id=1`}, 200, func(t *testing.T, r *sip.Response, f *fixture) {
			b := f.st.Bindings("alice@localhost")
			if b[0].Instance != "urn:uuid:1" || b[0].RegID != 1 || b[0].Q != 500 {
				t.Errorf("binding %+v", b[0])
			}
			want := `<sip:a@h>;expires=3600;q=0.5;+sip.instance="<urn:uuid:1>";reg-id=1`
			if got := r.GetHeader("Contact").Value(); got != want {
				t.Errorf("200 contact %s, want %s", got, want)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			res := f.do(register(t, "x", 1, tc.hdrs...), tc.aor)
			if res.StatusCode != tc.code {
				t.Fatalf("got %d %s, want %d", res.StatusCode, res.Reason, tc.code)
			}
			if tc.check != nil {
				tc.check(t, res, f)
			}
		})
	}
}

func TestRegisterWildcardAndIdentity(t *testing.T) {
	f := newFixture(t)
	f.do(register(t, "c1", 1, "Contact: <sip:a@h1>", "Contact: <sip:a@h2>"), "alice@localhost")
	if f.st.BindingCount() != 2 {
		t.Fatalf("bindings %d", f.st.BindingCount())
	}
	res := f.reg.Handle(context.Background(), Request{Req: register(t, "c2", 1, "Contact: <sip:a@h3>"), AOR: "alice@localhost", Identity: "bob@localhost"})
	if res.StatusCode != 403 {
		t.Fatalf("other identity: %d", res.StatusCode)
	}
	if res = f.do(register(t, "c9", 1, "Contact: *", "Expires: 0"), "alice@localhost"); res.StatusCode != 200 || f.st.BindingCount() != 0 {
		t.Fatalf("wildcard remove: %d, %d left", res.StatusCode, f.st.BindingCount())
	}
}

// TestRegisterWriteFailure: a write that found no leader or quorum (a
// minority partition), or timed out, is 503 with Retry-After; one the
// state refused is 500.
func TestRegisterWriteFailure(t *testing.T) {
	for _, tc := range []struct {
		err   error
		code  int
		retry bool
	}{
		{fmt.Errorf("raftnode: write binding.update: %w", raftnode.ErrNotLeader), 503, true},
		{fmt.Errorf("forward: %w", raftnode.ErrNoQuorum), 503, true},
		{raftnode.ErrNotReady, 503, true},
		{fmt.Errorf("raftnode: write: %w", context.DeadlineExceeded), 503, true},
		{fmt.Errorf("%w: bad body", state.ErrInvalid), 500, false},
	} {
		f := newFixture(t)
		f.w.Fail(tc.err)
		res := f.do(register(t, "c1", 1, "Contact: <sip:a@h>"), "alice@localhost")
		if res.StatusCode != tc.code || (res.GetHeader("Retry-After") != nil) != tc.retry {
			t.Errorf("%v: got %d (Retry-After %v), want %d", tc.err, res.StatusCode, res.GetHeader("Retry-After"), tc.code)
		}
	}
}

// asyncWriter commits through the fixture's writer on a goroutine of its
// own, as raftnode's WriteAsync answers from its completer; busy refuses
// every write at once.
type asyncWriter struct {
	*statetest.Writer
	busy bool
}

func (a asyncWriter) WriteAsync(t state.CommandType, body any, deadline time.Time, done func(any, error)) error {
	if a.busy {
		return raftnode.ErrBusy
	}
	go func() {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		done(a.Write(ctx, t, body))
	}()
	return nil
}

// With an asynchronous writer HandleAsync returns before the write
// commits and answers once, from the write's completion, with the new
// binding; a writer that refuses the write gets 503 with Retry-After.
func TestRegisterAsyncWrite(t *testing.T) {
	f := newFixture(t)
	f.reg.w = asyncWriter{Writer: f.w}
	got := make(chan *sip.Response, 2)
	in := Request{Req: register(t, "c1", 1, "Contact: <sip:alice@127.0.0.1:5071>"), AOR: "alice@localhost",
		Identity: "alice@localhost", Flow: Flow{Transport: "UDP", Source: "127.0.0.1:5071", Local: "127.0.0.1:5060"}}
	f.reg.HandleAsync(context.Background(), in, func(res *sip.Response) { got <- res })
	select {
	case res := <-got:
		if res.StatusCode != 200 || len(res.GetHeaders("Contact")) != 1 {
			t.Fatalf("answer %d, contacts %v", res.StatusCode, res.GetHeaders("Contact"))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer")
	}
	select {
	case res := <-got:
		t.Fatalf("answered twice: %d", res.StatusCode)
	case <-time.After(50 * time.Millisecond):
	}
	if len(f.st.Bindings("alice@localhost")) != 1 {
		t.Fatal("binding not stored")
	}

	f.reg.w = asyncWriter{Writer: f.w, busy: true}
	res := f.reg.Handle(context.Background(), Request{Req: register(t, "c2", 1, "Contact: <sip:alice@127.0.0.1:5072>"),
		AOR: "alice@localhost", Identity: "alice@localhost", Flow: in.Flow})
	if res.StatusCode != 503 || res.GetHeader("Retry-After") == nil {
		t.Fatalf("busy store: %d, Retry-After %v", res.StatusCode, res.GetHeader("Retry-After"))
	}
}
