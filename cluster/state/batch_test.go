package state

import (
	"bytes"
	"errors"
	"testing"
)

// A batch entry applies its commands in order, each as it would alone:
// its own result, its own request id deduplicated (within the batch and
// against earlier entries), and one observer call with every change.
func TestBatchAppliesEachCommandInOrder(t *testing.T) {
	s := New()
	var seen []Change
	s.Observe(func(ch []Change) { seen = append(seen, ch...) })
	first := mustEncode(t, CmdUserPut, "r1", 100, UserPut{Users: []User{alice()}, Create: true})
	if res, ok := s.Apply(1, first).(UserPutResult); !ok || res.Created != 1 {
		t.Fatalf("first put: %#v", res)
	}
	bob := alice()
	bob.Username = "bob"
	cmds := [][]byte{
		first, // a retry of an applied write
		mustEncode(t, CmdUserPut, "r2", 200, UserPut{Users: []User{alice()}, Create: true}),
		mustEncode(t, CmdUserPut, "r3", 300, UserPut{Users: []User{bob}, Create: true}),
		mustEncode(t, CmdUserPut, "r3", 300, UserPut{Users: []User{bob}, Create: true}), // same id in the batch
		EncodeBatch([][]byte{mustEncode(t, CmdUserDelete, "r4", 400, UserDelete{AOR: "bob@localhost"})}),
		mustEncode(t, CmdBindingUpdate, "r5", 500, BindingUpdate{AOR: "bob@localhost", Upsert: []Binding{binding("sip:b@h", "c", 1, 9)}}),
	}
	res, ok := s.Apply(2, EncodeBatch(cmds)).(BatchResult)
	if !ok || len(res) != len(cmds) {
		t.Fatalf("batch result %#v", res)
	}
	if _, ok := res[0].(Duplicate); !ok {
		t.Errorf("retried id: %#v, want Duplicate", res[0])
	}
	if err, _ := res[1].(error); !errors.Is(err, ErrExists) {
		t.Errorf("second create: %#v, want ErrExists", res[1])
	}
	if r, ok := res[2].(UserPutResult); !ok || r.Created != 1 {
		t.Errorf("bob: %#v", res[2])
	}
	if _, ok := res[3].(Duplicate); !ok {
		t.Errorf("same id twice in a batch: %#v, want Duplicate", res[3])
	}
	if err, _ := res[4].(error); !errors.Is(err, ErrInvalid) {
		t.Errorf("nested batch: %#v, want ErrInvalid", res[4])
	}
	if b, ok := res[5].([]Binding); !ok || len(b) != 1 {
		t.Errorf("binding update: %#v", res[5])
	}
	if u, ok := s.User("bob@localhost"); !ok || u.Created != 300 {
		t.Errorf("bob = %#v %v (the nested delete must not run)", u, ok)
	}
	if got := s.Bindings("bob@localhost"); len(got) != 1 {
		t.Errorf("bindings %v", got)
	}
	if s.LastIndex() != 2 {
		t.Errorf("last index %d", s.LastIndex())
	}
	var kinds []ChangeKind
	for _, c := range seen {
		if c.Index == 2 {
			kinds = append(kinds, c.Kind)
		}
	}
	if len(kinds) < 2 {
		t.Errorf("changes of the batch entry: %v", kinds)
	}
}

func TestBatchCodec(t *testing.T) {
	cmds := [][]byte{[]byte("one"), {}, bytes.Repeat([]byte{7}, 300)}
	c, err := Decode(EncodeBatch(cmds))
	if err != nil || c.Type != CmdBatch || c.ReqID != "" {
		t.Fatalf("decode: %v %#v", err, c)
	}
	got, err := DecodeBatch(c.Body)
	if err != nil || len(got) != len(cmds) {
		t.Fatalf("batch: %v %d", err, len(got))
	}
	for i := range cmds {
		if !bytes.Equal(got[i], cmds[i]) {
			t.Errorf("command %d: %q", i, got[i])
		}
	}
	if CmdBatch.String() != "batch" {
		t.Errorf("name %q", CmdBatch.String())
	}
	for _, bad := range [][]byte{{}, {2, 3, 'a'}, {1, 1, 'a', 'b'}, {0xff, 0xff, 0xff, 0xff, 0x0f}} {
		if _, err := DecodeBatch(bad); err == nil {
			t.Errorf("DecodeBatch(%v) accepted", bad)
		}
	}
}

// A batch whose inner command does not decode stops the node, as a bad
// entry of its own does: applying the rest would let it diverge.
func TestBatchWithUndecodableCommandPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	New().Apply(1, EncodeBatch([][]byte{{0}}))
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(EncodeBatch([][]byte{[]byte("a"), {}})[headerLen+3:])
	f.Add([]byte{0})
	f.Add([]byte{3, 1, 'x'})
	f.Fuzz(func(t *testing.T, body []byte) {
		cmds, err := DecodeBatch(body)
		if err != nil {
			return
		}
		c, err := Decode(EncodeBatch(cmds))
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeBatch(c.Body)
		if err != nil || len(again) != len(cmds) {
			t.Fatalf("round trip: %v, %d of %d", err, len(again), len(cmds))
		}
	})
}
