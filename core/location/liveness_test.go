package location

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
)

func TestParseLink(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Link
		ok   bool
	}{
		{"sip:10.0.0.2:5070;transport=tcp", Link{"10.0.0.2:5070", "TCP"}, true},
		{"sips:node2.example:5071;transport=tcp", Link{"node2.example:5071", "TLS"}, true},
		{"sips:[::1]", Link{"[::1]:5061", "TLS"}, true},
		{"sip:10.0.0.2;transport=udp", Link{"10.0.0.2:5060", "UDP"}, true},
		{"", Link{}, false},
		{"not a uri", Link{}, false},
	} {
		got, ok := ParseLink(tc.in)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("%q: %+v %v, want %+v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestLivenessAndBest: a member is down after two failed probes (or one
// failed forward) and up after one success; Best skips bindings homed on
// a down member while it has another endpoint, and finds none otherwise.
func TestLivenessAndBest(t *testing.T) {
	st := state.New()
	w := statetest.NewWriter(st)
	ctx := context.Background()
	for _, m := range []state.Member{
		{ID: "n1", SIPAddr: "sip:127.0.0.1:1;transport=tcp"},
		{ID: "n2", SIPAddr: "sip:127.0.0.1:2;transport=tcp"},
		{ID: "n3"}, // no link: never reachable
	} {
		if _, err := w.Write(ctx, state.CmdMemberPut, state.MemberPut{Member: m}); err != nil {
			t.Fatal(err)
		}
	}
	exp := time.Now().Unix() + 3600
	if _, err := w.Write(ctx, state.CmdBindingUpdate, state.BindingUpdate{AOR: "bob@x", Upsert: []state.Binding{
		{Contact: "sip:bob@a", CallID: "a", Q: 500, Expires: exp, Home: "n1"},
		{Contact: "sip:bob@b", CallID: "b", Q: 1000, Expires: exp, Home: "n2"},
	}}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	reachable := map[string]bool{"127.0.0.1:1": true, "127.0.0.1:2": true}
	l := NewLiveness(st, "n1", 100*time.Millisecond)
	l.dial = func(_ context.Context, addr string) error {
		mu.Lock()
		defer mu.Unlock()
		if reachable[addr] {
			return nil
		}
		return errors.New("refused")
	}
	loc := New(st, w, "n1", nil)
	loc.SetLiveness(l)
	best := func() string {
		b, ok := loc.Best("bob@x")
		if !ok {
			return ""
		}
		return b.Home
	}
	l.ProbeOnce(ctx)
	if l.Down("n3") {
		t.Fatal("n3 down after one failed probe")
	}
	l.ProbeOnce(ctx)
	if best() != "n2" || !l.Down("n3") || l.Down("n1") {
		t.Fatalf("all up: best on %q, n3 down %v", best(), l.Down("n3"))
	}
	mu.Lock()
	reachable["127.0.0.1:2"] = false
	mu.Unlock()
	l.ProbeOnce(ctx)
	if best() != "n2" {
		t.Fatal("down after one failed probe")
	}
	l.ProbeOnce(ctx)
	if best() != "n1" {
		t.Fatalf("after two failed probes best is on %q, want n1", best())
	}
	mu.Lock()
	reachable["127.0.0.1:2"] = true
	mu.Unlock()
	l.ProbeOnce(ctx)
	if best() != "n2" {
		t.Fatal("not up again after a successful probe")
	}
	l.MarkDown("n2")
	l.MarkDown("n1") // this node: never down
	if best() != "n1" || l.Down("n1") {
		t.Fatalf("after MarkDown(n2): best on %q", best())
	}
	if _, err := w.Write(ctx, state.CmdBindingUpdate, state.BindingUpdate{AOR: "bob@x", Remove: []string{"sip:bob@a"}}); err != nil {
		t.Fatal(err)
	}
	if b, ok := loc.Best("bob@x"); ok {
		t.Fatalf("only endpoint homed on a down member chosen: %+v", b)
	}
}
