package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
	"github.com/parley-rtc/parley/core/location"
	"github.com/parley-rtc/parley/core/metrics"
	"github.com/parley-rtc/parley/core/proxy"
)

func TestLocalTarget(t *testing.T) {
	base := state.Binding{Contact: "sip:bob@198.51.100.7:5060", Transport: "UDP", Source: "198.51.100.7:40000"}
	cases := []struct {
		name       string
		edit       func(*state.Binding)
		dest, netw string
		routes     int
	}{
		{"flow", func(*state.Binding) {}, "198.51.100.7:40000", "UDP", 0},
		{"outbound", func(b *state.Binding) { b.Reach = state.ReachOutbound }, "198.51.100.7:40000", "UDP", 0},
		{"contact", func(b *state.Binding) { b.Reach = state.ReachContact }, "198.51.100.7:5060", "UDP", 0},
		{"contact over tcp", func(b *state.Binding) {
			b.Reach, b.Contact = state.ReachContact, "sip:bob@198.51.100.7:5062;transport=tcp"
		}, "198.51.100.7:5062", "TCP", 0},
		{"path", func(b *state.Binding) {
			b.Reach, b.Path = state.ReachContact, &[]string{"sip:10.0.0.9:5070;lr;transport=tcp", "sip:p2.example.net;lr"}
		}, "10.0.0.9:5070", "TCP", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := base
			tc.edit(&b)
			tg, err := LocalTarget(b)
			if err != nil {
				t.Fatal(err)
			}
			if tg.Dest != tc.dest || tg.Transport != tc.netw || len(tg.Routes) != tc.routes || tg.URI.String() != b.Contact {
				t.Fatalf("%+v", tg)
			}
		})
	}
	if _, err := LocalTarget(state.Binding{Contact: "sip:x@h:port"}); !errors.Is(err, ErrBadContact) {
		t.Fatalf("bad contact: %v", err)
	}
}

// failoverRouter is a router for bob with the given bindings, all homed
// on n1, newest last.
func failoverRouter(t *testing.T, bs ...state.Binding) *Router {
	t.Helper()
	st := state.New()
	w := statetest.NewWriter(st)
	ctx := context.Background()
	if _, err := w.Write(ctx, state.CmdUserPut, state.UserPut{Users: []state.User{{Username: "bob", Domain: "example.com", Enabled: true}}}); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Unix()
	for i, b := range bs {
		b.CallID, b.CSeq, b.Q, b.Expires, b.Home = fmt.Sprint("c", i), 1, 1000, exp, "n1"
		if _, err := w.Write(ctx, state.CmdBindingUpdate, state.BindingUpdate{AOR: "bob@example.com", Upsert: []state.Binding{b}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond) // distinct activity times: the last is the most recent
	}
	log := slog.New(slog.DiscardHandler)
	return New(Config{
		Node: "n1", State: st, Location: location.New(st, w, "n1", log),
		Secret:  func() []byte { return []byte("secret") },
		Ours:    func(host string, _ int) bool { return host == "example.com" },
		AOR:     func(u sip.Uri) string { return u.User + "@example.com" },
		Metrics: metrics.New(func() float64 { return 0 }, func() float64 { return 0 }, func() float64 { return 0 }),
		Logger:  log, TxLifetime: 32 * time.Second,
	})
}

func bobRequest(m sip.RequestMethod) *sip.Request {
	return sip.NewRequest(m, sip.Uri{Scheme: "sip", User: "bob", Host: "example.com"})
}

// TestOutboundFlowFailed: a request whose only binding is an outbound
// flow that cannot carry it is left to the router, which answers 430.
func TestOutboundFlowFailed(t *testing.T) {
	r := failoverRouter(t, state.Binding{Contact: "sip:bob@198.51.100.7:5060;ob", Instance: "urn:uuid:1", RegID: 1,
		Transport: "TCP", Source: "198.51.100.7:40000", Reach: state.ReachOutbound})
	req := bobRequest(sip.OPTIONS)
	ch, err := r.Choose(req)
	if err != nil {
		t.Fatal(err)
	}
	exhausted, err := r.Forward(req, ch, func(tg proxy.Target, _ Endpoint) error {
		if !tg.Failover {
			t.Fatal("outbound target not left to the router")
		}
		return fmt.Errorf("%w: %w", proxy.ErrFailover, proxy.ErrUnreachable)
	})
	if !exhausted {
		t.Fatal("not exhausted")
	}
	if code, _ := Unreached(err); code != 430 {
		t.Fatalf("answer %d, want 430", code)
	}
	if code, _ := r.Unreachable(context.Background(), req, "bob@example.com", err); code != 430 {
		t.Fatalf("Unreachable %d, want 430", code)
	}
}

// TestFailoverTimer: a silent endpoint of a user with another gives way
// after the failover timer (the proxy is told to stop waiting), is tried
// last from then on, and the next request starts with the live one.
func TestFailoverTimer(t *testing.T) {
	live := state.Binding{Contact: "sip:bob@198.51.100.7:5060", Transport: "UDP", Source: "198.51.100.7:5060"}
	dead := state.Binding{Contact: "sip:bob@198.51.100.8:5060", Transport: "UDP", Source: "198.51.100.8:5060"}
	r := failoverRouter(t, live, dead) // dead registered last: most recent
	r.cfg.FailoverTimer = 3 * time.Second
	req := bobRequest(sip.MESSAGE)
	ch, err := r.Choose(req)
	if err != nil || ch.Endpoint.Key != dead.Contact {
		t.Fatalf("first choice %+v %v", ch, err)
	}
	var tried []string
	exhausted, err := r.Forward(req, ch, func(tg proxy.Target, ep Endpoint) error {
		tried = append(tried, ep.Key)
		if ep.Key == dead.Contact {
			if !tg.Failover || tg.NoAnswer != 3*time.Second || tg.Alive != nil {
				t.Fatalf("silent endpoint's target: failover %v, no answer %v", tg.Failover, tg.NoAnswer)
			}
			return fmt.Errorf("%w: %w", proxy.ErrFailover, proxy.ErrTimeout)
		}
		return nil
	})
	if exhausted || err != nil || len(tried) != 2 || tried[1] != live.Contact {
		t.Fatalf("exhausted %v, err %v, tried %v", exhausted, err, tried)
	}
	if ch, _ := r.Choose(req); ch.Endpoint.Key != live.Contact {
		t.Fatalf("demoted endpoint chosen again: %+v", ch)
	}
	// Heard from again (a refresh): it is the most recent once more.
	b := r.cfg.Location.Current("bob@example.com")[1]
	r.cfg.Location.Refresh("bob@example.com", b, 2, b.Expires)
	if ch, _ := r.Choose(req); ch.Endpoint.Key != dead.Contact {
		t.Fatalf("refreshed endpoint still demoted: %+v", ch)
	}
	// The timer never exceeds half the transaction lifetime.
	r.cfg.FailoverTimer, r.cfg.TxLifetime = time.Minute, 4*time.Second
	if d := r.failoverTimer(); d != 2*time.Second {
		t.Fatalf("failover timer %v", d)
	}
}

// TestRankByPresence: among bindings of equal q, an endpoint published
// as do-not-disturb comes after an online one, whatever their activity.
func TestRankByPresence(t *testing.T) {
	a := state.Binding{Contact: "sip:bob@198.51.100.7:5060", Transport: "UDP", Source: "198.51.100.7:5060"}
	dnd := state.Binding{Contact: "sip:bob@198.51.100.8:5060", Transport: "UDP", Source: "198.51.100.8:5060"}
	r := failoverRouter(t, a, dnd)
	r.cfg.Location.SetRank(func(_ string, bs []state.Binding) []int8 {
		out := make([]int8, len(bs))
		for i, b := range bs {
			if b.Contact == dnd.Contact {
				out[i] = 3
			}
		}
		return out
	})
	if ch, _ := r.Choose(bobRequest(sip.MESSAGE)); ch.Endpoint.Key != a.Contact {
		t.Fatalf("chose %s", ch.Endpoint.Key)
	}
}
