package state

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestPSTNConfigPut: versions advance by one from the writer's
// precondition, a stale precondition is a VersionError with the version
// in force, a replay of an applied write is a no-op, and bad names and
// sizes are refused; every replica applying the same log ends equal.
func TestPSTNConfigPut(t *testing.T) {
	docA, docB := []byte(`{"trunks":[{"name":"gwA","address":"127.0.0.1:5071"}]}`), []byte(`{}`)
	steps := []struct {
		name    string
		reqID   string
		body    PSTNConfigPut
		version uint64 // want this version stored; 0: want an error
		err     error
		current uint64 // with ErrVersion: the version reported
	}{
		{"create", "r1", PSTNConfigPut{Name: "default", Prev: 0, Doc: docA}, 1, nil, 0},
		{"create again (stale)", "r2", PSTNConfigPut{Name: "default", Prev: 0, Doc: docB}, 0, ErrVersion, 1},
		{"update", "r3", PSTNConfigPut{Name: "default", Prev: 1, Doc: docB}, 2, nil, 0},
		{"replay of the update past dedup", "r3-retry", PSTNConfigPut{Name: "default", Prev: 1, Doc: docB}, 2, nil, 0},
		{"stale update with other bytes", "r4", PSTNConfigPut{Name: "default", Prev: 1, Doc: docA}, 0, ErrVersion, 2},
		{"ahead of the version", "r5", PSTNConfigPut{Name: "default", Prev: 7, Doc: docA}, 0, ErrVersion, 2},
		{"bad name", "r6", PSTNConfigPut{Name: "a/b", Doc: docA}, 0, ErrInvalid, 0},
		{"empty document", "r7", PSTNConfigPut{Name: "x", Doc: nil}, 0, ErrInvalid, 0},
		{"oversized document", "r8", PSTNConfigPut{Name: "x", Doc: []byte(`"` + strings.Repeat("a", MaxPSTNConfig) + `"`)}, 0, ErrInvalid, 0},
		{"second document", "r9", PSTNConfigPut{Name: "lab", Doc: docA}, 1, nil, 0},
	}
	a, b := New(), New()
	for i, st := range steps {
		data := mustEncode(t, CmdPSTNConfigPut, st.reqID, int64(1000+i), st.body)
		res := a.Apply(uint64(i+1), data)
		b.Apply(uint64(i+1), data)
		if st.err != nil {
			err, _ := res.(error)
			if !errors.Is(err, st.err) {
				t.Fatalf("%s: result %v, want %v", st.name, res, st.err)
			}
			var ve *VersionError
			if errors.As(err, &ve) && ve.Current != st.current {
				t.Fatalf("%s: current %d, want %d", st.name, ve.Current, st.current)
			}
			continue
		}
		got, ok := res.(PSTNConfig)
		if !ok || got.Version != st.version || !bytes.Equal(got.Doc, st.body.Doc) {
			t.Fatalf("%s: result %#v, want version %d", st.name, res, st.version)
		}
	}
	d, ok := a.PSTNConfigOf("default")
	if !ok || d.Version != 2 || string(d.Doc) != `{}` || d.Updated != 1002 {
		t.Fatalf("stored %+v", d)
	}
	list := a.PSTNConfigs()
	if len(list) != 2 || list[0].Name != "default" || list[1].Name != "lab" || list[0].Doc != nil {
		t.Fatalf("list %+v", list)
	}
	if !reflect.DeepEqual(image(t, a), image(t, b)) {
		t.Fatal("replicas differ")
	}
}

// TestPSTNConfigSnapshot: documents survive a snapshot and restore, and a
// restore tells observers.
func TestPSTNConfigSnapshot(t *testing.T) {
	s := New()
	s.Apply(1, mustEncode(t, CmdPSTNConfigPut, "r1", 5, PSTNConfigPut{Name: "default", Doc: []byte(`{"trunks":[]}`)}))
	var buf bytes.Buffer
	if _, err := s.Snapshot().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r := New()
	var seen bool
	r.Observe(func(ch []Change) {
		for _, c := range ch {
			seen = seen || c.Kind == PSTNConfigChanged
		}
	})
	if err := r.Restore(strings.NewReader(buf.String())); err != nil {
		t.Fatal(err)
	}
	d, ok := r.PSTNConfigOf("default")
	if !ok || d.Version != 1 || string(d.Doc) != `{"trunks":[]}` || !seen {
		t.Fatalf("restored %+v ok=%v told=%v", d, ok, seen)
	}
}
