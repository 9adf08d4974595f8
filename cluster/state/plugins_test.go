package state

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestPluginKV(t *testing.T) {
	s := New()
	steps := []struct {
		typ     CommandType
		body    any
		wantErr bool
	}{
		{CmdPluginKVPut, PluginKVPut{Plugin: "xmpp", Key: "map/alice", Value: []byte("a@x")}, false},
		{CmdPluginKVPut, PluginKVPut{Plugin: "xmpp", Key: "map/bob", Value: []byte("b@x")}, false},
		{CmdPluginKVPut, PluginKVPut{Plugin: "other", Key: "map/alice", Value: []byte("z")}, false},
		{CmdPluginKVPut, PluginKVPut{Plugin: "xmpp", Key: "", Value: []byte("z")}, true},
		{CmdPluginKVPut, PluginKVPut{Plugin: "xmpp", Key: strings.Repeat("k", MaxPluginKeyLen+1)}, true},
		{CmdPluginKVPut, PluginKVPut{Plugin: "xmpp", Key: "big", Value: make([]byte, MaxPluginValueLen+1)}, true},
		{CmdPluginKVDelete, PluginKVDelete{Plugin: "xmpp", Key: "map/bob"}, false},
		{CmdPluginKVDelete, PluginKVDelete{Plugin: "xmpp", Key: "map/bob"}, false}, // repeated: harmless
	}
	for i, st := range steps {
		res := s.Apply(uint64(i+1), mustEncode(t, st.typ, "", int64(i), st.body))
		err, _ := res.(error)
		if (err != nil) != st.wantErr || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Fatalf("step %d: %v", i, res)
		}
	}
	if v, ok := s.PluginKV("xmpp", "map/alice"); !ok || string(v) != "a@x" {
		t.Fatalf("get %q %v", v, ok)
	}
	if _, ok := s.PluginKV("xmpp", "map/bob"); ok {
		t.Fatal("deleted key still there")
	}
	if v, _ := s.PluginKV("other", "map/alice"); string(v) != "z" {
		t.Fatal("stores are not separate per plugin")
	}
	if keys := s.PluginKeys("xmpp", "map/"); len(keys) != 1 || keys[0] != "map/alice" {
		t.Fatalf("keys %v", keys)
	}
	// The snapshot carries the stores.
	r := restored(t, s)
	if v, ok := r.PluginKV("xmpp", "map/alice"); !ok || string(v) != "a@x" {
		t.Fatalf("restored %q %v", v, ok)
	}
}

func TestPluginLease(t *testing.T) {
	s := New()
	const ttl = int64(10)
	steps := []struct {
		node     string
		time     int64
		release  bool
		wantNode string
		wantTill int64
	}{
		{"n1", 100, false, "n1", 110}, // first: granted
		{"n2", 105, false, "n1", 110}, // held: refused
		{"n1", 108, false, "n1", 118}, // renewal
		{"n2", 118, false, "n2", 128}, // lapsed at the leader's time: taken over
		{"n1", 119, true, "n2", 128},  // n1 cannot release n2's lease
		{"n2", 120, true, "", 0},      // released
		{"n1", 121, false, "n1", 131}, // free again
	}
	for i, st := range steps {
		res := s.Apply(uint64(i+1), mustEncode(t, CmdPluginLease, "", st.time, PluginLease{Plugin: "xmpp", Node: st.node, TTL: ttl, Release: st.release}))
		l, ok := res.(Lease)
		if !ok || l.Node != st.wantNode || l.Until != st.wantTill {
			t.Fatalf("step %d: %#v", i, res)
		}
	}
	if l, ok := s.PluginLeaseOf("xmpp"); !ok || l.Node != "n1" {
		t.Fatalf("lease %+v", l)
	}
	if err, _ := s.Apply(99, mustEncode(t, CmdPluginLease, "", 1, PluginLease{Plugin: "xmpp", Node: "n1"})).(error); !errors.Is(err, ErrInvalid) {
		t.Fatalf("lease without ttl: %v", err)
	}
	// A renewal carries the running instance's claims; the next one
	// replaces them.
	res := s.Apply(100, mustEncode(t, CmdPluginLease, "", 122, PluginLease{Plugin: "xmpp", Node: "n1", TTL: ttl, Claims: []string{"*@xmpp.example"}}))
	if l, _ := res.(Lease); l.Until != 132 || len(l.Claims) != 1 || l.Claims[0] != "*@xmpp.example" {
		t.Fatalf("renewal with claims: %#v", res)
	}
	// Another node's refused request leaves them alone.
	s.Apply(101, mustEncode(t, CmdPluginLease, "", 123, PluginLease{Plugin: "xmpp", Node: "n2", TTL: ttl, Claims: []string{"evil@x"}}))
	if l, _ := s.PluginLeaseOf("xmpp"); l.Node != "n1" || len(l.Claims) != 1 || l.Claims[0] != "*@xmpp.example" {
		t.Fatalf("lease after a refused request %+v", l)
	}
	r := restored(t, s)
	if l, ok := r.PluginLeaseOf("xmpp"); !ok || l.Node != "n1" || l.Until != 132 || len(l.Claims) != 1 || l.Claims[0] != "*@xmpp.example" {
		t.Fatalf("restored lease %+v", l)
	}
}

func TestPluginAppCommand(t *testing.T) {
	for cmd, ok := range map[string]bool{"contentfilter": true, "": false, "../bin/sh": false, "/bin/sh": false, "..": false} {
		res := New().Apply(1, mustEncode(t, CmdAppPut, "", 1, AppPut{App: App{Name: "f", Kind: AppPlugin, Command: cmd}}))
		if err, _ := res.(error); (err == nil) != ok {
			t.Errorf("command %q: %v", cmd, res)
		}
	}
}

// restored is s written to a snapshot and read back into a new state.
func restored(t *testing.T, s *State) *State {
	t.Helper()
	var buf bytes.Buffer
	if _, err := s.Snapshot().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r := New()
	if err := r.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	return r
}
