package state

import (
	"bytes"
	"errors"
	"testing"
)

func TestPublicationLifecycle(t *testing.T) {
	s := New()
	aor := "alice@localhost"
	if res := s.Apply(1, mustEncode(t, CmdPresencePublish, "p1", 10, PresencePublish{AOR: aor, ETag: "e1", Body: []byte("<a/>"), Expires: 100})); res != nil {
		t.Fatal(res)
	}
	// Refresh: new etag, body kept.
	s.Apply(2, mustEncode(t, CmdPresencePublish, "p2", 20, PresencePublish{AOR: aor, ETag: "e2", PrevETag: "e1", Expires: 200}))
	p := s.Publications(aor)
	if len(p) != 1 || p[0].ETag != "e2" || string(p[0].Body) != "<a/>" || p[0].Expires != 200 {
		t.Fatalf("after refresh: %+v", p)
	}
	// Unknown etag: not found (the agent answers 412).
	if err, _ := s.Apply(3, mustEncode(t, CmdPresencePublish, "p3", 30, PresencePublish{AOR: aor, ETag: "x", PrevETag: "e1", Expires: 1})).(error); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stale etag: %v", err)
	}
	s.Apply(4, mustEncode(t, CmdPresencePublish, "p4", 40, PresencePublish{AOR: aor, ETag: "e3", PrevETag: "e2", Body: []byte("<b/>"), Expires: 300, Manual: true}))
	if p = s.Publications(aor); string(p[0].Body) != "<b/>" || !p[0].Manual {
		t.Fatalf("modify: %+v", p)
	}
	s.Apply(5, mustEncode(t, CmdPresencePublish, "p5", 50, PresencePublish{AOR: aor, PrevETag: "e3", Remove: true}))
	if len(s.Publications(aor)) != 0 {
		t.Fatal("remove left a publication")
	}
	if err, _ := s.Apply(6, mustEncode(t, CmdCalendarSet, "c", 60, CalendarSet{AOR: aor, Entries: []CalendarEntry{{From: 5, To: 1}}})).(error); !errors.Is(err, ErrInvalid) {
		t.Fatalf("backwards calendar entry: %v", err)
	}
}

func TestSubscriptionsAndXcapIndexes(t *testing.T) {
	s := New()
	sub := Subscription{ID: "c;f;t", Event: "presence", Watcher: "bob@localhost", Target: "alice@localhost", Home: "n1"}
	s.Apply(1, mustEncode(t, CmdSubscriptionPut, "s1", 10, SubscriptionPut{Sub: sub}))
	if got := s.SubscriptionsTo("alice@localhost"); len(got) != 1 || got[0].Created != 10 {
		t.Fatalf("subs: %+v", got)
	}
	sub.Expires = 99
	s.Apply(2, mustEncode(t, CmdSubscriptionPut, "s2", 20, SubscriptionPut{Sub: sub}))
	if got, _ := s.Subscription("c;f;t"); got.Created != 10 || got.Expires != 99 {
		t.Fatalf("refresh changed created or lost expires: %+v", got)
	}
	put := XcapPut{AUID: AUIDResourceLists, XUI: "sip:bob@localhost", Doc: "index", Body: []byte("<l/>"), ETag: "x1", IfNoneMatch: "*",
		Contacts: []Contact{{URI: "sip:alice@localhost", Target: "alice@localhost"}}}
	if res := s.Apply(3, mustEncode(t, CmdXcapPut, "x1", 30, put)); res != nil {
		t.Fatal(res)
	}
	if err, _ := s.Apply(4, mustEncode(t, CmdXcapPut, "x2", 40, put)).(error); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("If-None-Match * on existing doc: %v", err)
	}
	if got := s.ContactOf("alice@localhost"); len(got) != 1 || got[0] != "bob@localhost" {
		t.Fatalf("reverse index %v", got)
	}
	// Replacing the list drops the reverse entry.
	put2 := XcapPut{AUID: AUIDResourceLists, XUI: "sip:bob@localhost", Doc: "index", Body: []byte("<l/>"), ETag: "x3", IfMatch: "x1"}
	s.Apply(5, mustEncode(t, CmdXcapPut, "x3", 50, put2))
	if len(s.ContactOf("alice@localhost")) != 0 {
		t.Fatal("reverse index kept a removed contact")
	}
	rules := XcapPut{AUID: AUIDPresRules, XUI: "sip:alice@localhost", Doc: "index", Body: []byte("<r/>"), ETag: "r1", Rules: &PresRules{Block: []string{"sip:eve@localhost"}}}
	s.Apply(6, mustEncode(t, CmdXcapPut, "r1", 60, rules))

	var buf bytes.Buffer
	if _, err := s.Snapshot().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r := New()
	if err := r.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if got, ok := r.Rules("alice@localhost"); !ok || len(got.Block) != 1 {
		t.Fatalf("rules after restore: %+v", got)
	}
	if len(r.SubscriptionsTo("alice@localhost")) != 1 {
		t.Fatal("subscription index lost in snapshot")
	}
	if d, ok := r.Xcap(AUIDResourceLists, "sip:bob@localhost", "index"); !ok || d.ETag != "x3" {
		t.Fatalf("xcap doc after restore: %+v", d)
	}
	s.Apply(7, mustEncode(t, CmdSubscriptionDelete, "d", 70, SubscriptionDelete{IDs: []string{"c;f;t"}}))
	if len(s.SubscriptionsTo("alice@localhost")) != 0 {
		t.Fatal("deleted subscription still indexed")
	}
}

func TestRoutes(t *testing.T) {
	s := New()
	if err, _ := s.Apply(1, mustEncode(t, CmdRoutePut, "r0", 1, RoutePut{Route: Route{ID: "x", Match: "phone:12a", NextHop: "sip:gw"}})).(error); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad match accepted: %v", err)
	}
	s.Apply(2, mustEncode(t, CmdRoutePut, "r1", 2, RoutePut{Route: Route{ID: "b", Match: "phone:+1", NextHop: "sip:gw2", Priority: 20}}))
	s.Apply(3, mustEncode(t, CmdRoutePut, "r2", 3, RoutePut{Route: Route{ID: "a", Match: "phone:+1", NextHop: "sip:gw1", Priority: 10, Trusted: true}}))
	if rs := s.Routes(); len(rs) != 2 || rs[0].ID != "a" {
		t.Fatalf("routes %+v", rs)
	}
	var buf bytes.Buffer
	if _, err := s.Snapshot().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r := New()
	if err := r.Restore(&buf); err != nil || len(r.Routes()) != 2 {
		t.Fatalf("routes after restore: %v %v", r.Routes(), err)
	}
	if err, _ := s.Apply(4, mustEncode(t, CmdRouteDelete, "r3", 4, RouteDelete{ID: "zz"})).(error); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete unknown: %v", err)
	}
}

func TestApps(t *testing.T) {
	s := New()
	if err, _ := s.Apply(1, mustEncode(t, CmdAppPut, "a0", 1, AppPut{App: App{Name: "x", Kind: "wasm"}})).(error); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown kind accepted: %v", err)
	}
	s.Apply(2, mustEncode(t, CmdAppPut, "a1", 2, AppPut{App: App{Name: "router", Kind: AppBuiltin, Position: 100, Enabled: true}}))
	s.Apply(3, mustEncode(t, CmdAppPut, "a2", 3, AppPut{App: App{Name: "filter", Kind: AppRules, Position: 50, Enabled: true, Rules: "[]"}}))
	if apps := s.Apps(); len(apps) != 2 || apps[0].Name != "filter" {
		t.Fatalf("chain %+v", apps)
	}
	var buf bytes.Buffer
	if _, err := s.Snapshot().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r := New()
	if err := r.Restore(&buf); err != nil || len(r.Apps()) != 2 {
		t.Fatalf("apps after restore: %v %v", r.Apps(), err)
	}
	if err, _ := s.Apply(4, mustEncode(t, CmdAppDelete, "a3", 4, AppDelete{Name: "nope"})).(error); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete unknown: %v", err)
	}
}
