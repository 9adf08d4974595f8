package state

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func storeCmd(t *testing.T, id string, when int64, aor string, perUser, total int) []byte {
	t.Helper()
	return mustEncode(t, CmdOfflineStore, id, when, OfflineStore{AOR: aor, From: "<sip:alice@x>;tag=1", To: "<sip:" + aor + ">",
		CallID: "c-" + id, ContentType: "text/plain", Body: []byte("hi " + id), PerUser: perUser, Total: total, TTL: 100})
}

// TestOfflineApplyDeterministic applies one log to two states, one of
// them through a snapshot half way: the same messages, ids and results.
func TestOfflineApplyDeterministic(t *testing.T) {
	var log [][]byte
	for i := 1; i <= 4; i++ {
		log = append(log, storeCmd(t, fmt.Sprintf("r%d", i), int64(i*10), "carol@x", 3, 10))
	}
	log = append(log,
		mustEncode(t, CmdOfflineClaim, "k1", 50, OfflineClaim{AOR: "carol@x", Node: "n2", TTL: 30}),
		mustEncode(t, CmdOfflineClaim, "k2", 60, OfflineClaim{AOR: "carol@x", Node: "n1", TTL: 30}),
		mustEncode(t, CmdOfflineDelete, "d1", 70, OfflineDelete{AOR: "carol@x", IDs: []string{"r1"}}),
		storeCmd(t, "r5", 80, "carol@x", 3, 10),
		mustEncode(t, CmdOfflineSweep, "s1", 125, OfflineSweep{}),
	)
	a, b := New(), New()
	var resA, resB []any
	for i, data := range log {
		resA = append(resA, a.Apply(uint64(i+1), data))
		if i == 4 {
			var buf bytes.Buffer
			if _, err := b.Snapshot().WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			b = New()
			if err := b.Restore(&buf); err != nil {
				t.Fatal(err)
			}
		}
		resB = append(resB, b.Apply(uint64(i+1), data))
	}
	if !reflect.DeepEqual(a.Offline("carol@x"), b.Offline("carol@x")) {
		t.Fatalf("states differ:\n%+v\n%+v", a.Offline("carol@x"), b.Offline("carol@x"))
	}
	// r4 was over the per-user bound of 3.
	if err, _ := resA[3].(error); !errors.Is(err, ErrOfflineFull) {
		t.Fatalf("4th store: %v", resA[3])
	}
	if got := resA[0]; got != (OfflineStored{ID: "r1"}) {
		t.Fatalf("1st store: %#v", got)
	}
	cl := resA[4].(OfflineClaimed)
	if cl.Node != "n2" || cl.Until != 80 || len(cl.Messages) != 3 || cl.Messages[0].ID != "r1" || cl.Messages[2].ID != "r3" || cl.Messages[1].Time != 20 {
		t.Fatalf("claim: %+v", cl)
	}
	if other := resA[5].(OfflineClaimed); other.Node != "n2" || other.Messages != nil {
		t.Fatalf("second node got the claim: %+v", other)
	}
	// r2 (expires 120) swept at 125; r3 (130) and r5 (180) stay.
	got := a.Offline("carol@x")
	if len(got) != 2 || got[0].ID != "r3" || got[1].ID != "r5" || got[1].Expires != 180 {
		t.Fatalf("after sweep: %+v", got)
	}
	if resA[8] != 1 {
		t.Fatalf("sweep removed %v", resA[8])
	}
}

func TestOfflineBounds(t *testing.T) {
	s := New()
	for i := range 3 {
		if res := s.Apply(uint64(i+1), storeCmd(t, fmt.Sprint("a", i), 1, fmt.Sprint("u", i), 5, 3)); res == nil {
			t.Fatal("store refused")
		}
	}
	if err, _ := s.Apply(4, storeCmd(t, "a4", 1, "u9", 5, 3)).(error); !errors.Is(err, ErrOfflineFull) {
		t.Fatalf("over the total: %v", err)
	}
	big := OfflineStore{AOR: "u1", Body: make([]byte, MaxOfflineBody+1), PerUser: 5, Total: 10, TTL: 1}
	if err, _ := s.Apply(5, mustEncode(t, CmdOfflineStore, "big", 1, big)).(error); !errors.Is(err, ErrInvalid) {
		t.Fatalf("oversized body: %v", err)
	}
	if n := s.Apply(6, mustEncode(t, CmdOfflineDelete, "p", 1, OfflineDelete{AOR: "u1", All: true})); n != 1 {
		t.Fatalf("purge one user: %v", n)
	}
	if res := s.Apply(7, storeCmd(t, "a7", 1, "u9", 5, 3)); res != (OfflineStored{ID: "a7"}) {
		t.Fatalf("store after purge: %v", res)
	}
	if n := s.Apply(8, mustEncode(t, CmdOfflineDelete, "p2", 1, OfflineDelete{All: true})); n != 3 {
		t.Fatalf("purge all: %v", n)
	}
	if aors, _ := s.OfflineUsers(); len(aors) != 0 {
		t.Fatalf("left %v", aors)
	}
	// A retried store (same request id) is applied once.
	s.Apply(9, storeCmd(t, "x", 1, "u1", 5, 3))
	if _, dup := s.Apply(10, storeCmd(t, "x", 1, "u1", 5, 3)).(Duplicate); !dup || s.OfflineCount("u1") != 1 {
		t.Fatalf("retried store kept twice: %d", s.OfflineCount("u1"))
	}
}

// TestOfflineClaimLapses: a claim lapsed at the command's time goes to
// the next node; release frees it at once.
func TestOfflineClaimLapses(t *testing.T) {
	s := New()
	s.Apply(1, storeCmd(t, "m", 1, "c@x", 5, 5))
	claim := func(idx uint64, node string, when int64, release bool) OfflineClaimed {
		return s.Apply(idx, mustEncode(t, CmdOfflineClaim, fmt.Sprint("k", idx), when, OfflineClaim{AOR: "c@x", Node: node, TTL: 10, Release: release})).(OfflineClaimed)
	}
	if c := claim(2, "n1", 5, false); c.Node != "n1" || len(c.Messages) != 1 {
		t.Fatalf("%+v", c)
	}
	if c := claim(3, "n2", 14, false); c.Node != "n1" {
		t.Fatalf("held claim taken: %+v", c)
	}
	if c := claim(4, "n2", 15, false); c.Node != "n2" || len(c.Messages) != 1 {
		t.Fatalf("lapsed claim not taken: %+v", c)
	}
	claim(5, "n1", 16, true) // not n1's: no effect
	if c := claim(6, "n1", 17, false); c.Node != "n2" {
		t.Fatalf("release by another node freed it: %+v", c)
	}
	claim(7, "n2", 18, true)
	if c := claim(8, "n1", 19, false); c.Node != "n1" {
		t.Fatalf("released claim not free: %+v", c)
	}
}
