package offline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
	"github.com/parley-rtc/parley/core/proxy"
)

type sent struct {
	req *sip.Request
	t   proxy.Target
}

type fixture struct {
	st   *state.State
	w    *statetest.Writer
	svc  *Service
	sent []sent
	fail func(i int) bool // Send fails the i-th request (0-based)
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	f := &fixture{st: state.New()}
	f.w = statetest.NewWriter(f.st)
	cfg.Node, cfg.State, cfg.Writer = "n1", f.st, f.w
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Send = func(_ context.Context, req *sip.Request, tg proxy.Target) (*sip.Response, error) {
		i := len(f.sent)
		f.sent = append(f.sent, sent{req, tg})
		if f.fail != nil && f.fail(i) {
			return sip.NewResponseFromRequest(req, 480, "Temporarily Unavailable", nil), nil
		}
		return sip.NewResponseFromRequest(req, 200, "OK", nil), nil
	}
	f.svc = New(cfg)
	return f
}

func message(t *testing.T, body string) *sip.Request {
	t.Helper()
	raw := "MESSAGE sip:carol@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK" + body + "\r\n" +
		"From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:carol@example.com>\r\nCall-ID: " + body + "\r\n" +
		"CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n" + body
	m, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return m.(*sip.Request)
}

const carol = "carol@example.com"

func TestStoreAnswers(t *testing.T) {
	f := newFixture(t, Config{PerUser: 2, Total: 3})
	ctx := context.Background()
	for i, want := range []int{202, 202, 486} {
		if code, reason := f.svc.Store(ctx, message(t, fmt.Sprint("m", i)), carol); code != want {
			t.Fatalf("message %d: %d %s, want %d", i, code, reason, want)
		}
	}
	// The cluster-wide bound: one more for another user fits, then 486.
	if code, _ := f.svc.Store(ctx, message(t, "d1"), "dave@example.com"); code != 202 {
		t.Fatalf("dave: %d", code)
	}
	if code, _ := f.svc.Store(ctx, message(t, "d2"), "dave@example.com"); code != 486 {
		t.Fatalf("over the total: %d", code)
	}
	big := message(t, "x")
	big.SetBody(make([]byte, state.MaxOfflineBody+1))
	if code, _ := f.svc.Store(ctx, big, carol); code != 513 {
		t.Fatalf("too large: %d", code)
	}
	typing := message(t, `<?xml version="1.0"?><isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active</state></isComposing>`)
	typing.ReplaceHeader(sip.NewHeader("Content-Type", "Application/IM-isComposing+xml; charset=utf-8"))
	if code, _ := f.svc.Store(ctx, typing, "frank@example.com"); code != 480 {
		t.Fatalf("isComposing: %d, want 480 (never stored)", code)
	}
	if got := f.st.OfflineCount("frank@example.com"); got != 0 {
		t.Fatalf("isComposing stored: %d", got)
	}
	f.w.Fail(errors.New("no quorum"))
	if code, _ := f.svc.Store(ctx, message(t, "lost"), "erin@example.com"); code != 480 {
		t.Fatalf("write failed: %d", code)
	}
	if got := f.st.OfflineCount(carol); got != 2 {
		t.Fatalf("carol has %d stored", got)
	}
}

func register(t *testing.T, f *fixture, b state.Binding) {
	t.Helper()
	b.CSeq, b.Q, b.Expires, b.Home = 1, 1000, time.Now().Add(time.Hour).Unix(), "n1"
	if _, err := f.w.Write(context.Background(), state.CmdBindingUpdate, state.BindingUpdate{AOR: carol, Upsert: []state.Binding{b}}); err != nil {
		t.Fatal(err)
	}
}

func TestDeliverInOrderWithDate(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := context.Background()
	for _, body := range []string{"one", "two", "three"} {
		if code, _ := f.svc.Store(ctx, message(t, body), carol); code != 202 {
			t.Fatal(code)
		}
	}
	stored := f.st.Offline(carol)
	register(t, f, state.Binding{Contact: "sip:carol@198.51.100.7:5060", CallID: "r1", Transport: "UDP",
		Source: "198.51.100.7:40000", Reach: state.ReachContact})
	if n := f.svc.Deliver(ctx, carol); n != 3 {
		t.Fatalf("delivered %d", n)
	}
	for i, s := range f.sent {
		if string(s.req.Body()) != []string{"one", "two", "three"}[i] {
			t.Fatalf("message %d: %q", i, s.req.Body())
		}
		date := s.req.GetHeader("Date")
		if date == nil || date.Value() != time.Unix(0, stored[i].Time).UTC().Format(http.TimeFormat) {
			t.Fatalf("message %d Date %v", i, date)
		}
		if s.t.Dest != "198.51.100.7:5060" {
			t.Fatalf("sent to %s, not the registered Contact", s.t.Dest)
		}
	}
	if f.st.OfflineCount(carol) != 0 {
		t.Fatal("delivered messages still stored")
	}
	if n := f.svc.Deliver(ctx, carol); n != 0 || len(f.sent) != 3 {
		t.Fatal("delivered twice")
	}
}

func TestDeliverStopsAtFailure(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := context.Background()
	for _, body := range []string{"one", "two", "three"} {
		f.svc.Store(ctx, message(t, body), carol)
	}
	f.fail = func(i int) bool { return i == 1 }
	register(t, f, state.Binding{Contact: "sip:carol@198.51.100.7:5060", CallID: "r1", Transport: "UDP", Source: "198.51.100.7:5060"})
	if n := f.svc.Deliver(ctx, carol); n != 1 {
		t.Fatalf("delivered %d", n)
	}
	if left := f.st.Offline(carol); len(left) != 2 || string(left[0].Body) != "two" {
		t.Fatalf("left %+v", left)
	}
	// The same registration is not tried again; a new one is.
	if n := f.svc.Deliver(ctx, carol); n != 0 || len(f.sent) != 2 {
		t.Fatalf("retried the failed registration: %d, sent %d", n, len(f.sent))
	}
	f.fail = nil
	register(t, f, state.Binding{Contact: "sip:carol@198.51.100.7:5060", CallID: "r2", Transport: "UDP", Source: "198.51.100.7:5060"})
	if n := f.svc.Deliver(ctx, carol); n != 2 {
		t.Fatalf("after a new registration: %d", n)
	}
}

func TestDeliverLeftToClaimHolder(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := context.Background()
	f.svc.Store(ctx, message(t, "one"), carol)
	if _, err := f.w.Write(ctx, state.CmdOfflineClaim, state.OfflineClaim{AOR: carol, Node: "n2", TTL: int64(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	register(t, f, state.Binding{Contact: "sip:carol@198.51.100.7:5060", CallID: "r1", Transport: "UDP", Source: "198.51.100.7:5060"})
	if n := f.svc.Deliver(ctx, carol); n != 0 || len(f.sent) != 0 {
		t.Fatalf("delivered %d while n2 holds the claim", n)
	}
}
