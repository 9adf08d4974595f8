package state

import (
	"bytes"
	"errors"
	"testing"
)

func mustEncode(t *testing.T, typ CommandType, reqID string, when int64, body any) []byte {
	t.Helper()
	c, err := NewCommand(typ, body)
	if err != nil {
		t.Fatal(err)
	}
	c.ReqID, c.Time, c.Node = reqID, when, "n1"
	data, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func alice() User {
	return User{Username: "alice", Domain: "localhost", Enabled: true, HA1MD5: "x", HA1SHA256: "y"}
}

func TestUserPutCreateDeleteAndDedup(t *testing.T) {
	s := New()
	put := mustEncode(t, CmdUserPut, "r1", 100, UserPut{Users: []User{alice()}, Create: true})
	if res, ok := s.Apply(1, put).(UserPutResult); !ok || res.Created != 1 {
		t.Fatalf("first put: %#v", s.Apply(1, put))
	}
	// Same request id again: skipped, not an error and not a second user.
	if _, ok := s.Apply(2, put).(Duplicate); !ok {
		t.Fatal("retried request id was applied twice")
	}
	again := mustEncode(t, CmdUserPut, "r2", 200, UserPut{Users: []User{alice()}, Create: true})
	if err, _ := s.Apply(3, again).(error); !errors.Is(err, ErrExists) {
		t.Fatalf("create of existing user: got %v, want ErrExists", err)
	}
	u, ok := s.User("alice@localhost")
	if !ok || u.Created != 100 {
		t.Fatalf("user = %#v %v", u, ok)
	}
	del := mustEncode(t, CmdUserDelete, "r3", 300, UserDelete{AOR: "alice@localhost"})
	if res := s.Apply(4, del); res != nil {
		t.Fatalf("delete: %v", res)
	}
	if _, ok := s.User("alice@localhost"); ok {
		t.Fatal("user still there after delete")
	}
	if s.LastIndex() != 4 {
		t.Fatalf("last index %d", s.LastIndex())
	}
}

func TestUnknownCommand(t *testing.T) {
	s := New()
	skip := mustEncode(t, CommandType(999), "", 1, struct{}{})
	skip[0] |= byte(FlagIgnoreUnknown)
	if res := s.Apply(1, skip); res != nil {
		t.Fatalf("ignorable unknown command gave %v", res)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("unknown command without the ignore flag did not stop apply")
		}
	}()
	s.Apply(2, mustEncode(t, CommandType(999), "", 1, struct{}{}))
}

func binding(contact, callID string, cseq uint32, expires int64) Binding {
	return Binding{Contact: contact, CallID: callID, CSeq: cseq, Expires: expires, Q: 1000, Transport: "UDP", Home: "n1"}
}

func TestBindingLifecycle(t *testing.T) {
	s := New()
	var changes []Change
	s.Observe(func(ch []Change) { changes = append(changes, ch...) })
	aor := "alice@localhost"
	up := mustEncode(t, CmdBindingUpdate, "a", 10, BindingUpdate{AOR: aor, Upsert: []Binding{
		binding("sip:alice@127.0.0.1:5071", "c1", 1, 1000),
		binding("sip:alice@127.0.0.1:5072", "c2", 1, 1000),
	}})
	if got := s.Apply(1, up).([]Binding); len(got) != 2 || got[0].Updated != 10 {
		t.Fatalf("after update: %#v", got)
	}
	if s.BindingCount() != 2 || len(changes) != 1 || changes[0].AOR != aor || changes[0].Index != 1 {
		t.Fatalf("count %d changes %#v", s.BindingCount(), changes)
	}
	// A late, older REGISTER of the same Call-ID does not overwrite.
	old := mustEncode(t, CmdBindingUpdate, "b", 20, BindingUpdate{AOR: aor, Upsert: []Binding{
		binding("sip:alice@127.0.0.1:5071", "c1", 1, 5000),
	}})
	s.Apply(2, old)
	if b := s.Bindings(aor); b[0].Expires != 1000 {
		t.Fatalf("stale update applied: %#v", b[0])
	}
	ref := BindingRef{AOR: aor, Key: "sip:alice@127.0.0.1:5071", CallID: "c1", CSeq: 1}
	ref2 := ref
	ref2.CSeq = 2
	s.Apply(3, mustEncode(t, CmdBindingRefresh, "c", 30, BindingRefresh{Items: []Refresh{{BindingRef: ref2, Expires: 2000, Updated: 25}}}))
	if b := s.Bindings(aor); b[0].Expires != 2000 || b[0].CSeq != 2 {
		t.Fatalf("refresh not applied: %#v", b[0])
	}
	// Expiry naming the superseded CSeq must not remove the refreshed binding.
	if n := s.Apply(4, mustEncode(t, CmdBindingExpire, "d", 40, BindingExpire{Items: []BindingRef{ref}})); n != 0 {
		t.Fatalf("expired a refreshed binding: %v", n)
	}
	if n := s.Apply(5, mustEncode(t, CmdBindingExpire, "e", 50, BindingExpire{Items: []BindingRef{ref2}})); n != 1 {
		t.Fatalf("expire removed %v", n)
	}
	rm := mustEncode(t, CmdBindingUpdate, "f", 60, BindingUpdate{AOR: aor, RemoveAll: true})
	if got := s.Apply(6, rm).([]Binding); len(got) != 0 || s.BindingCount() != 0 {
		t.Fatalf("remove all left %d", s.BindingCount())
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := New()
	s.Apply(1, mustEncode(t, CmdUserPut, "u", 1, UserPut{Users: []User{alice()}}))
	s.Apply(2, mustEncode(t, CmdBindingUpdate, "b", 2, BindingUpdate{AOR: "alice@localhost", Upsert: []Binding{binding("sip:a@h", "c", 1, 9)}}))
	s.Apply(3, mustEncode(t, CmdMetaInit, "m", 3, MetaInit{Secret: bytes.Repeat([]byte{7}, 32)}))
	var buf bytes.Buffer
	if _, err := s.Snapshot().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r := New()
	if err := r.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if r.UserCount() != 1 || r.BindingCount() != 1 || len(r.Secret()) != 32 || r.LastIndex() != 3 {
		t.Fatalf("restored: users %d bindings %d secret %d index %d", r.UserCount(), r.BindingCount(), len(r.Secret()), r.LastIndex())
	}
	// The dedup window survives, so a retry after restore stays a no-op.
	if _, ok := r.Apply(4, mustEncode(t, CmdUserPut, "u", 1, UserPut{Users: []User{alice()}})).(Duplicate); !ok {
		t.Fatal("dedup window lost in snapshot")
	}
}

func TestDecodeShort(t *testing.T) {
	if _, err := Decode([]byte{1}); !errors.Is(err, ErrShortCommand) {
		t.Fatalf("got %v", err)
	}
}
