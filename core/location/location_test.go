package location

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
)

// base is "now" for these tests: the fake writer stamps real times.
var base = time.Now().Unix()

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T, bs ...state.Binding) (*Service, *state.State, *statetest.Writer, *clock) {
	t.Helper()
	st := state.New()
	w := statetest.NewWriter(st)
	if len(bs) > 0 {
		if _, err := w.Write(context.Background(), state.CmdBindingUpdate, state.BindingUpdate{AOR: "a@d", Upsert: bs}); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: time.Unix(base, 0)}
	s := New(st, w, "n1", slog.New(slog.DiscardHandler))
	s.now = clk.now
	return s, st, w, clk
}

func bind(contact, source string, q uint16, expires int64) state.Binding {
	return state.Binding{Contact: contact, CallID: contact, CSeq: 1, Q: q, Expires: expires, Source: source, Home: "n1"}
}

func TestBestPrefersQThenActivity(t *testing.T) {
	s, _, _, clk := setup(t,
		bind("sip:a@1", "1.1.1.1:1", 500, base+1000),
		bind("sip:a@2", "2.2.2.2:2", 1000, base+1000),
		bind("sip:a@3", "3.3.3.3:3", 1000, base+1000),
		bind("sip:a@4", "4.4.4.4:4", 1000, base-1), // expired
	)
	cur := s.Current("a@d")
	if len(cur) != 3 || cur[2].Contact != "sip:a@1" {
		t.Fatalf("order %v", contacts(cur))
	}
	// Activity from the flow of a@3 makes it the best of the q=1 endpoints.
	// (The clock moves on by minutes: the bindings were written at the
	// wall clock's time, up to a second past base.)
	clk.t = clk.t.Add(time.Minute)
	s.NoteActivity("a@d", "3.3.3.3:3")
	if b, _ := s.Best("a@d"); b.Contact != "sip:a@3" {
		t.Fatalf("best after activity: %s", b.Contact)
	}
	clk.t = clk.t.Add(time.Minute)
	s.NoteActivity("a@d", "2.2.2.2:2")
	if b, _ := s.Best("a@d"); b.Contact != "sip:a@2" {
		t.Fatalf("best after newer activity: %s", b.Contact)
	}
	if _, ok := s.Best("nobody@d"); ok {
		t.Fatal("best for unknown aor")
	}
}

func TestRefreshOverlayFlushAndSweep(t *testing.T) {
	b := bind("sip:a@1", "1.1.1.1:1", 1000, base+10)
	s, st, w, clk := setup(t, b)
	s.Refresh("a@d", b, 2, base+100)
	if cur := s.Current("a@d"); cur[0].Expires != base+100 || cur[0].CSeq != 2 {
		t.Fatalf("overlay not applied: %+v", cur[0])
	}
	// Past the replicated expiry, but within the refreshed one: kept.
	clk.t = time.Unix(base+50, 0)
	s.Sweep(context.Background())
	if st.BindingCount() != 1 {
		t.Fatal("sweep removed a refreshed binding")
	}
	// A failed flush keeps the refresh pending; the next one replicates it.
	w.Fail(context.DeadlineExceeded)
	s.Flush(context.Background())
	if s.PendingRefreshes() != 1 {
		t.Fatal("failed flush lost the refresh")
	}
	w.Fail(nil)
	s.Flush(context.Background())
	if s.PendingRefreshes() != 0 || st.Bindings("a@d")[0].Expires != base+100 {
		t.Fatalf("flush: pending %d, stored %+v", s.PendingRefreshes(), st.Bindings("a@d")[0])
	}
	clk.t = time.Unix(base+200, 0)
	if len(s.Current("a@d")) != 0 {
		t.Fatal("expired binding still routable")
	}
	s.Sweep(context.Background())
	if st.BindingCount() != 0 {
		t.Fatal("sweep kept an expired binding")
	}
}

// TestSweepOtherNodesBindings: bindings homed on a live member are left
// to it; those of a member that is down are swept once they lapsed more
// than orphanGrace ago.
func TestSweepOtherNodesBindings(t *testing.T) {
	b := bind("sip:a@1", "1.1.1.1:1", 1000, base-10)
	b.Home = "n2"
	s, st, w, clk := setup(t, b)
	if _, err := w.Write(context.Background(), state.CmdMemberPut, state.MemberPut{Member: state.Member{ID: "n2"}}); err != nil {
		t.Fatal(err)
	}
	s.Sweep(context.Background())
	if st.BindingCount() != 1 {
		t.Fatal("swept a binding homed on a live node")
	}
	l := NewLiveness(st, "n1", time.Second)
	s.SetLiveness(l)
	l.MarkDown("n2")
	s.Sweep(context.Background())
	if st.BindingCount() != 1 {
		t.Fatal("swept a down node's binding within the grace period")
	}
	clk.t = clk.t.Add((orphanGrace + 1) * time.Second)
	s.Sweep(context.Background())
	if st.BindingCount() != 0 {
		t.Fatal("a down node's lapsed binding was not swept")
	}
}

func contacts(bs []state.Binding) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Contact
	}
	return out
}
