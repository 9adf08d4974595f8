package raftnode

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"

	"github.com/parley-rtc/parley/cluster/state"
)

// stableKeys are the keys raft keeps in its stable store.
var (
	uintKeys  = []string{"CurrentTerm", "LastVoteTerm"}
	bytesKeys = []string{"LastVoteCand"}
)

// boltFixture leaves in a new data directory the bolt store of a node
// that wrote users users with their bindings; with compact, it then took
// a snapshot that trimmed the log's head.
func boltFixture(t *testing.T, users int, compact bool) string {
	t.Helper()
	dir := t.TempDir()
	n, err := Open(Config{NodeID: "n1", DataDir: dir, Bind: freeAddr(t), Bootstrap: true, Store: StoreBolt, TrailingLogs: 10}, state.New())
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, n)
	writeFixture(t, n, 0, users)
	if compact {
		if err := n.raft.Snapshot().Error(); err != nil {
			t.Fatal(err)
		}
		if first, _ := n.store.FirstIndex(); first <= 1 {
			t.Fatalf("log not compacted: first index %d", first)
		}
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// openBoltRO opens a bolt store read-only.
func openBoltRO(t *testing.T, path string) *raftboltdb.BoltStore {
	t.Helper()
	s, err := raftboltdb.New(raftboltdb.Options{Path: path, BoltOptions: &bbolt.Options{ReadOnly: true}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sameStores checks that got holds the log and stable keys of want.
func sameStores(t *testing.T, got logStore, want *raftboltdb.BoltStore) {
	t.Helper()
	wf, _ := want.FirstIndex()
	wl, _ := want.LastIndex()
	gf, _ := got.FirstIndex()
	gl, _ := got.LastIndex()
	if gl != wl || (wl > 0 && gf != wf) {
		t.Fatalf("log [%d, %d], want [%d, %d]", gf, gl, wf, wl)
	}
	for i := wf; wl > 0 && i <= wl; i++ {
		var g, w raft.Log
		if err := want.GetLog(i, &w); err != nil {
			t.Fatal(err)
		}
		if err := got.GetLog(i, &g); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if g.Index != w.Index || g.Term != w.Term || g.Type != w.Type || !bytes.Equal(g.Data, w.Data) ||
			!bytes.Equal(g.Extensions, w.Extensions) || !g.AppendedAt.Equal(w.AppendedAt) {
			t.Fatalf("entry %d: got %+v, want %+v", i, g, w)
		}
	}
	for _, k := range uintKeys {
		w, werr := want.GetUint64([]byte(k))
		g, gerr := got.GetUint64([]byte(k))
		if werr != nil && werr != raftboltdb.ErrKeyNotFound || gerr != nil || g != w {
			t.Errorf("%s: got %d (%v), want %d (%v)", k, g, gerr, w, werr)
		}
	}
	for _, k := range bytesKeys {
		w, werr := want.Get([]byte(k))
		g, gerr := got.Get([]byte(k))
		if werr != nil && werr != raftboltdb.ErrKeyNotFound || gerr != nil || !bytes.Equal(g, w) {
			t.Errorf("%s: got %q (%v), want %q (%v)", k, g, gerr, w, werr)
		}
	}
}

// TestMigrateBoltToWAL opens, with the wal store, data directories a
// bolt node left in various states, crashed migrations included: every
// time the WAL must end up a complete copy of the bolt store, raft.db
// kept as raft.db.migrated, and a node on it must hold every write and
// take new ones.
func TestMigrateBoltToWAL(t *testing.T) {
	const users = 40
	for _, tc := range []struct {
		name    string
		users   int                             // written through a bolt node first
		compact bool                            // and a snapshot trimmed its log
		crash   func(t *testing.T, raft string) // leaves what a crash would
	}{
		{name: "bolt store", users: users},
		{name: "compacted bolt log", users: users, compact: true},
		{name: "leftover partial copy", users: users, crash: func(t *testing.T, raftDir string) {
			// Half the log copied into the temporary WAL, then a crash.
			src := openBoltRO(t, filepath.Join(raftDir, boltFile))
			defer src.Close()
			w, err := openWAL(filepath.Join(raftDir, walTempDir), slog.Default())
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			first, _ := src.FirstIndex()
			last, _ := src.LastIndex()
			for i := first; i <= first+(last-first)/2; i++ {
				var l raft.Log
				if err := src.GetLog(i, &l); err != nil {
					t.Fatal(err)
				}
				if err := w.StoreLog(&l); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{name: "leftover empty temporary dir", users: users, crash: func(t *testing.T, raftDir string) {
			if err := os.MkdirAll(filepath.Join(raftDir, walTempDir), 0o700); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "crash between the renames", users: users, crash: func(t *testing.T, raftDir string) {
			// The complete WAL is in place, raft.db not yet renamed.
			s, err := openStore(StoreWAL, raftDir, slog.Default())
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			if err := os.Rename(filepath.Join(raftDir, boltMigrated), filepath.Join(raftDir, boltFile)); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "empty wal beside raft.db", users: users, crash: func(t *testing.T, raftDir string) {
			w, err := openWAL(filepath.Join(raftDir, walDirName), slog.Default())
			if err != nil {
				t.Fatal(err)
			}
			w.Close()
		}},
		{name: "bolt store without log entries", crash: func(t *testing.T, raftDir string) {
			// Only stable keys, as a member that voted but never got an entry.
			if err := os.MkdirAll(raftDir, 0o700); err != nil {
				t.Fatal(err)
			}
			s, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(raftDir, boltFile)})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.SetUint64([]byte("CurrentTerm"), 7); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.users > 0 {
				dir = boltFixture(t, tc.users, tc.compact)
			}
			raftDir := filepath.Join(dir, "raft")
			// The bolt store as the bolt node left it, to compare with.
			ref := filepath.Join(t.TempDir(), "ref.db")
			if tc.crash != nil && tc.users == 0 {
				tc.crash(t, raftDir)
			}
			copyFile(t, filepath.Join(raftDir, boltFile), ref)
			if tc.crash != nil && tc.users > 0 {
				tc.crash(t, raftDir)
			}

			s, err := openStore(StoreWAL, raftDir, slog.Default())
			if err != nil {
				t.Fatal(err)
			}
			want := openBoltRO(t, ref)
			sameStores(t, s, want)
			want.Close()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			wantFiles(t, dir, []string{walDirName, boltMigrated}, []string{boltFile, walTempDir})
			if tc.users == 0 {
				return
			}

			n := openOn(t, dir, freeAddr(t), StoreWAL)
			defer n.Close()
			checkFixture(t, n, tc.users)
			writeFixture(t, n, tc.users, 5)
			checkFixture(t, n, tc.users+5)
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOpenMigrates: a node opened on the wal store over a bolt node's
// data directory migrates it itself, then runs on the copy.
func TestOpenMigrates(t *testing.T) {
	dir := boltFixture(t, 30, false)
	ref := openBoltRO(t, filepath.Join(dir, "raft", boltFile))
	term, _ := ref.GetUint64([]byte("CurrentTerm"))
	last, _ := ref.LastIndex()
	ref.Close()

	n := openOn(t, dir, freeAddr(t), "")
	defer n.Close()
	wantFiles(t, dir, []string{walDirName, boltMigrated}, []string{boltFile, walTempDir})
	checkFixture(t, n, 30)
	if got, err := n.store.GetUint64([]byte("CurrentTerm")); err != nil || got < term {
		t.Errorf("term %d (%v) after migrating term %d", got, err, term)
	}
	writeFixture(t, n, 30, 3)
	checkFixture(t, n, 33)
	if got := n.raft.LastIndex(); got <= last {
		t.Errorf("last index %d, want beyond the migrated %d", got, last)
	}
}
