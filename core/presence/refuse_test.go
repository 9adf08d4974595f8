package presence

import (
	"context"
	"log/slog"
	"testing"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
	"github.com/parley-rtc/parley/core/transport"
)

// TestPendingWatcherRefused: a pending watcher (another domain) whom the
// presentity then blocks is refused: the subscription is removed and its
// final NOTIFY says terminated;reason=rejected with no body, so a
// gateway can tell a refusal from "offline". One the presentity allows
// becomes active; one still undecided stays pending.
func TestPendingWatcherRefused(t *testing.T) {
	ctx := context.Background()
	st := state.New()
	w := statetest.NewWriter(st)
	a := New(Config{Node: "n1", Domains: []string{"localhost"}, Logger: slog.New(slog.DiscardHandler)}, st, w, nil, nil, &transport.Set{})
	put := func(id, watcher string) state.Subscription {
		t.Helper()
		sub := state.Subscription{ID: id, Event: EventPresence, Watcher: watcher, Target: "alice@localhost",
			CallID: id, FromTag: "f", ToTag: "t", RemoteURI: "sip:" + watcher, LocalURI: "sip:alice@localhost",
			Contact: "sip:127.0.0.1:5070", Expires: 1 << 40, Status: "pending", Home: "n1"}
		if _, err := w.Write(ctx, state.CmdSubscriptionPut, state.SubscriptionPut{Sub: sub}); err != nil {
			t.Fatal(err)
		}
		return sub
	}
	romeo, juliet, mercutio := put("s-romeo", "romeo@xmpp.test"), put("s-juliet", "juliet@xmpp.test"), put("s-mercutio", "mercutio@xmpp.test")
	if err := a.SetRules(ctx, "alice@localhost", state.PresRules{Block: []string{"sip:romeo@xmpp.test"}, Allow: []string{"sip:juliet@xmpp.test"}}); err != nil {
		t.Fatal(err)
	}

	sub, reason := a.promote(ctx, romeo)
	if reason != "rejected" {
		t.Fatalf("blocked pending watcher: reason %q, want rejected", reason)
	}
	if _, ok := st.Subscription(romeo.ID); ok {
		t.Error("refused subscription still stored")
	}
	req, err := a.buildNotify(sub, reason)
	if err != nil {
		t.Fatal(err)
	}
	if h := req.GetHeader("Subscription-State"); h == nil || h.Value() != "terminated;reason=rejected" {
		t.Errorf("Subscription-State %v, want terminated;reason=rejected", h)
	}
	if len(req.Body()) != 0 || req.GetHeader("Content-Type") != nil {
		t.Errorf("refusal carries a body (%q): a refused watcher is told nothing of alice", req.Body())
	}

	if sub, reason := a.promote(ctx, juliet); reason != "" || sub.Status != "active" {
		t.Errorf("allowed watcher: status %q reason %q, want active", sub.Status, reason)
	}
	if s, ok := st.Subscription(juliet.ID); !ok || s.Status != "active" {
		t.Errorf("allowed watcher stored as %+v", s)
	}
	if sub, reason := a.promote(ctx, mercutio); reason != "" || sub.Status != "pending" {
		t.Errorf("undecided watcher: status %q reason %q, want still pending", sub.Status, reason)
	}
	req, _ = a.buildNotify(mercutio, "")
	if h := req.GetHeader("Subscription-State"); h == nil || len(req.Body()) != 0 || h.Value()[:8] != "pending;" {
		t.Errorf("pending NOTIFY: %v, %d bytes", h, len(req.Body()))
	}
}
