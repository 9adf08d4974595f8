package state

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// TestRegisteredFlags pins which command types are ignorable: every
// registered type must be listed, so a new one cannot join the table
// without someone deciding (see the rule at registry).
func TestRegisteredFlags(t *testing.T) {
	want := map[CommandType]bool{
		CmdUserPut: false, CmdUserDelete: false,
		CmdBindingUpdate: false, CmdBindingRefresh: false, CmdBindingExpire: false,
		CmdMetaInit:        false,
		CmdPresencePublish: true, CmdCalendarSet: true,
		CmdSubscriptionPut: false, CmdSubscriptionDelete: false,
		CmdXcapPut: false, CmdXcapDelete: false,
		CmdRoutePut: false, CmdRouteDelete: false,
		CmdAppPut: false, CmdAppDelete: false,
		CmdPluginKVPut: true, CmdPluginKVDelete: true, CmdPluginLease: false,
		CmdPartnerPut: false, CmdPartnerDelete: false,
		CmdMemberPut: false, CmdMemberDelete: false,
		CmdOfflineStore: true, CmdOfflineClaim: true, CmdOfflineDelete: true, CmdOfflineSweep: true,
		CmdPSTNConfigPut: true,
	}
	for typ := range registry {
		if _, ok := want[typ]; !ok {
			t.Errorf("%s (%d) is registered but not listed here: decide whether it is ignorable", typ, typ)
		}
	}
	for typ, ign := range want {
		t.Run(typ.String(), func(t *testing.T) {
			if _, ok := registry[typ]; !ok {
				t.Fatalf("type %d is not registered", typ)
			}
			// NewCommand and Encode, as raftnode's Write and Submit do:
			// the writer sets nothing by hand.
			c, err := NewCommand(typ, struct{}{})
			if err != nil {
				t.Fatal(err)
			}
			d, err := Decode(mustEncodeCmd(t, c))
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Flags&FlagIgnoreUnknown != 0; got != ign {
				t.Fatalf("FlagIgnoreUnknown on encode = %v, want %v", got, ign)
			}
			if d.Flags&^FlagIgnoreUnknown != 0 {
				t.Fatalf("unexpected flags %#x", d.Flags)
			}
		})
	}
}

func mustEncodeCmd(t *testing.T, c Command) []byte {
	t.Helper()
	data, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// asOldNode removes typ from the dispatch table until the test ends, so
// this state behaves as a binary from before typ existed.
func asOldNode(t *testing.T, typ CommandType) {
	t.Helper()
	h, ok := registry[typ]
	if !ok {
		t.Fatalf("type %d is not registered", typ)
	}
	delete(registry, typ)
	t.Cleanup(func() { registry[typ] = h })
}

// image returns the state's snapshot without its last applied index
// (which every apply moves), for comparing contents.
func image(t *testing.T, s *State) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	if _, err := s.Snapshot().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "last_index")
	return m
}

// TestOldNodeMeetsNewType: a command written by a node that knows its
// type reaches a node that does not. An ignorable one is skipped with the
// state untouched (its request id not even remembered); any other stops
// apply, as an unknown type always did, also inside a batch.
func TestOldNodeMeetsNewType(t *testing.T) {
	cases := []struct {
		name      string
		typ       CommandType
		body      any
		wantPanic bool
	}{
		{"plugin kv put", CmdPluginKVPut, PluginKVPut{Plugin: "xmpp", Key: "k", Value: []byte("v")}, false},
		{"calendar set", CmdCalendarSet, CalendarSet{AOR: "alice@localhost", Entries: []CalendarEntry{{From: 1, To: 2}}}, false},
		{"user put", CmdUserPut, UserPut{Users: []User{{Username: "bob", Domain: "localhost"}}}, true},
		{"pstn config put", CmdPSTNConfigPut, PSTNConfigPut{Name: "default", Doc: []byte(`{}`)}, false},
		{"plugin lease", CmdPluginLease, PluginLease{Plugin: "xmpp", Node: "n2", TTL: 1e9}, true},
	}
	for _, tc := range cases {
		for _, batched := range []bool{false, true} {
			name := tc.name
			if batched {
				name += " in a batch"
			}
			t.Run(name, func(t *testing.T) {
				data := mustEncode(t, tc.typ, "new-1", 10, tc.body) // the new writer
				if batched {
					data = EncodeBatch([][]byte{data})
				}
				s := New()
				s.Apply(1, mustEncode(t, CmdUserPut, "u", 1, UserPut{Users: []User{alice()}}))
				before := image(t, s)
				asOldNode(t, tc.typ)

				var res any
				panicked := func() (p bool) {
					defer func() { p = recover() != nil }()
					res = s.Apply(2, data)
					return false
				}()
				if panicked != tc.wantPanic {
					t.Fatalf("apply panicked = %v, want %v (result %v)", panicked, tc.wantPanic, res)
				}
				if !reflect.DeepEqual(image(t, s), before) {
					t.Fatalf("state changed:\nbefore %v\nafter  %v", before, image(t, s))
				}
				if !tc.wantPanic {
					want := any(nil)
					if batched {
						want = BatchResult{nil}
					}
					if !reflect.DeepEqual(res, want) {
						t.Fatalf("result %#v, want %#v", res, want)
					}
				}
			})
		}
	}
}
