package state

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func sampleUpdate() BindingUpdate {
	return BindingUpdate{
		AOR:       "alice@localhost",
		RemoveAll: true,
		Remove:    []string{"sip:old@h", "urn:uuid:1#2"},
		Upsert: []Binding{
			{Contact: "sip:a@10.0.0.1:5060;transport=tcp", Instance: "urn:uuid:abc", RegID: 2, CallID: "c1",
				CSeq: 7, Q: 500, Expires: 1_800_000_000, Updated: -3, Transport: "TCP", Source: "10.0.0.1:5060",
				Local: "127.0.0.1:5060", Home: "n1", UserAgent: "ua/1"},
			binding("sip:b@h", "c2", 1, 9),
		},
	}
}

// jsonEnvelope is the log form older parleyd versions wrote: the flags
// byte, the type, then a JSON envelope with a JSON body.
func jsonEnvelope(t *testing.T, typ CommandType, reqID string, when int64, body any) []byte {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	env, err := json.Marshal(Command{ReqID: reqID, Time: when, Node: "n1", Body: raw})
	if err != nil {
		t.Fatal(err)
	}
	out := []byte{0, 0, 0}
	binary.BigEndian.PutUint16(out[1:], uint16(typ))
	return append(out, env...)
}

func TestBindingUpdateBinaryRoundTrip(t *testing.T) {
	want := sampleUpdate()
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"binary", mustEncode(t, CmdBindingUpdate, "r1", 42, want)},
		{"json (older logs)", jsonEnvelope(t, CmdBindingUpdate, "r1", 42, want)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Decode(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if c.Type != CmdBindingUpdate || c.ReqID != "r1" || c.Time != 42 || c.Node != "n1" || c.Flags != 0 {
				t.Fatalf("envelope: %+v", c)
			}
			got, err := decodeBindingUpdate(&c)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestBinaryEnvelopeKeepsFlagsAndJSONBodies(t *testing.T) {
	c, err := NewCommand(CmdUserPut, UserPut{Users: []User{alice()}})
	if err != nil {
		t.Fatal(err)
	}
	c.Flags, c.ReqID, c.Time, c.Node = FlagIgnoreUnknown, "u1", -5, "node-2"
	data, _ := c.Encode()
	d, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if d.Flags != FlagIgnoreUnknown || d.ReqID != "u1" || d.Time != -5 || d.Node != "node-2" || string(d.Body) != string(c.Body) {
		t.Fatalf("decoded %+v from %+v", d, c)
	}
}

func TestJSONLogStillApplies(t *testing.T) {
	s := New()
	s.Apply(1, jsonEnvelope(t, CmdBindingUpdate, "old", 10, BindingUpdate{AOR: "a@d", Upsert: []Binding{binding("sip:a@h", "c", 1, 9)}}))
	if s.BindingCount() != 1 {
		t.Fatalf("bindings %d", s.BindingCount())
	}
	// The dedup window sees the same request id in either form.
	if _, ok := s.Apply(2, mustEncode(t, CmdBindingUpdate, "old", 10, BindingUpdate{AOR: "a@d"})).(Duplicate); !ok {
		t.Fatal("request id of a JSON entry not remembered")
	}
}

func TestBinaryTruncated(t *testing.T) {
	full := mustEncode(t, CmdBindingUpdate, "r", 1, sampleUpdate())
	for n := headerLen; n < len(full); n++ {
		c, err := Decode(full[:n])
		if err != nil {
			continue
		}
		if _, err := decodeBindingUpdate(&c); !errors.Is(err, ErrInvalid) {
			t.Fatalf("truncated at %d of %d: %v", n, len(full), err)
		}
	}
}

// FuzzDecodeBindingUpdate: no input makes decoding panic; what decodes
// encodes back to the same body.
func FuzzDecodeBindingUpdate(f *testing.F) {
	f.Add(sampleUpdate().appendBinary(nil))
	f.Add(BindingUpdate{AOR: "a@d"}.appendBinary(nil))
	f.Add([]byte(`{"aor":"a@d"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c := Command{Type: CmdBindingUpdate, Body: body}
		u, err := decodeBindingUpdate(&c)
		if err != nil || len(body) == 0 || body[0] != bindingUpdateV1 {
			return
		}
		if again := u.appendBinary(nil); len(again) > len(body) {
			t.Fatalf("re-encoding grew: %d > %d", len(again), len(body))
		}
	})
}

// BenchmarkBindingUpdateCodec: one REGISTER's binding.update written and
// read back, in the JSON form older logs hold and in the binary form.
func BenchmarkBindingUpdateCodec(b *testing.B) {
	up := BindingUpdate{AOR: "user1@localhost", Upsert: []Binding{{Contact: "sip:user1@127.0.0.1:40000",
		CallID: "1-2345@127.0.0.1", CSeq: 2, Q: 1000, Expires: 1_800_000_000, Transport: "UDP",
		Source: "127.0.0.1:40000", Local: "127.0.0.1:5060", Home: "n1"}}}
	run := func(b *testing.B, encode func() []byte) {
		b.ReportAllocs()
		for b.Loop() {
			c, err := Decode(encode())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := decodeBindingUpdate(&c); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("json", func(b *testing.B) {
		run(b, func() []byte {
			raw, _ := json.Marshal(up)
			env, _ := json.Marshal(Command{ReqID: "0123456789abcdef-1", Time: 1, Node: "n1", Body: raw})
			return append([]byte{0, 0, byte(CmdBindingUpdate)}, env...)
		})
	})
	b.Run("binary", func(b *testing.B) {
		run(b, func() []byte {
			c, _ := NewCommand(CmdBindingUpdate, up)
			c.ReqID, c.Time, c.Node = "0123456789abcdef-1", 1, "n1"
			data, _ := c.Encode()
			return data
		})
	})
}

// TestBindingUpdateV2 checks the body version: V1 while no binding
// carries Reach or Path (older nodes read it), V2 otherwise, and both
// round-trip.
func TestBindingUpdateV2(t *testing.T) {
	plain := sampleUpdate()
	withReach := sampleUpdate()
	withReach.Upsert[0].Reach = ReachOutbound
	withReach.Upsert[0].Path = &[]string{"<sip:edge.example.net;lr>", "<sip:p2.example.net;lr>"}
	withReach.Upsert[1].Reach = ReachContact
	for _, tc := range []struct {
		name    string
		u       BindingUpdate
		version byte
	}{
		{"no reach: v1", plain, bindingUpdateV1},
		{"reach and path: v2", withReach, bindingUpdateV2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.u.appendBinary(nil)
			if body[0] != tc.version {
				t.Fatalf("version %d, want %d", body[0], tc.version)
			}
			c, err := Decode(mustEncode(t, CmdBindingUpdate, "r1", 42, tc.u))
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeBindingUpdate(&c)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.u) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.u)
			}
		})
	}
}
