package raftnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
)

// writeFixture writes n users, each with one binding, through node.
func writeFixture(t testing.TB, node *Node, from, n int) {
	t.Helper()
	ctx := context.Background()
	for i := from; i < from+n; i++ {
		name := fmt.Sprintf("u%d", i)
		if err := createUser(ctx, node, name); err != nil {
			t.Fatal(err)
		}
		aor := name + "@localhost"
		bd := state.Binding{Contact: "sip:" + aor + ";transport=udp", CallID: "c-" + name, CSeq: 1, Q: 1000,
			Expires: time.Now().Unix() + 3600, Transport: "UDP", Source: "192.0.2.1:5060", Home: "n1"}
		if _, err := node.Write(ctx, state.CmdBindingUpdate, state.BindingUpdate{AOR: aor, Upsert: []state.Binding{bd}}); err != nil {
			t.Fatal(err)
		}
	}
}

// checkFixture checks that exactly users u0..u<n-1> exist, each with
// its binding.
func checkFixture(t testing.TB, node *Node, n int) {
	t.Helper()
	st := node.State()
	if got := st.UserCount(); got != n {
		t.Errorf("%d users, want %d", got, n)
	}
	if got := st.BindingCount(); got != n {
		t.Errorf("%d bindings, want %d", got, n)
	}
	for i := range n {
		name := fmt.Sprintf("u%d", i)
		if !hasUser(node, name) {
			t.Errorf("user %s missing", name)
		}
		if bs := st.Bindings(name + "@localhost"); len(bs) != 1 || bs[0].CallID != "c-"+name {
			t.Errorf("bindings of %s: %+v", name, bs)
		}
	}
}

// wantFiles checks which entries of <dir>/raft exist.
func wantFiles(t testing.TB, dir string, present, absent []string) {
	t.Helper()
	for _, name := range present {
		if _, err := os.Stat(filepath.Join(dir, "raft", name)); err != nil {
			t.Errorf("raft/%s: %v", name, err)
		}
	}
	for _, name := range absent {
		if _, err := os.Stat(filepath.Join(dir, "raft", name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("raft/%s exists (err %v), want none", name, err)
		}
	}
}

func TestRestartKeepsStateOnEachStore(t *testing.T) {
	for _, tc := range []struct {
		store           string
		present, absent []string
	}{
		{store: "", present: []string{walDirName}, absent: []string{boltFile, boltMigrated}},
		{store: StoreWAL, present: []string{walDirName}, absent: []string{boltFile, boltMigrated}},
		{store: StoreBolt, present: []string{boltFile}, absent: []string{walDirName, boltMigrated}},
	} {
		t.Run("store="+tc.store, func(t *testing.T) {
			dir, addr := t.TempDir(), freeAddr(t)
			n := openOn(t, dir, addr, tc.store)
			writeFixture(t, n, 0, 20)
			secret := n.State().Secret()
			if err := n.Close(); err != nil {
				t.Fatal(err)
			}
			n2 := openOn(t, dir, addr, tc.store)
			defer n2.Close()
			if !n2.HadState() {
				t.Error("HadState false after restart")
			}
			checkFixture(t, n2, 20)
			if string(n2.State().Secret()) != string(secret) {
				t.Error("cluster secret changed across restart")
			}
			writeFixture(t, n2, 20, 5)
			checkFixture(t, n2, 25)
			wantFiles(t, dir, tc.present, tc.absent)
		})
	}
}

// TestStoreChoice covers opening a data directory with each store where
// that is refused, or allowed without a migration.
func TestStoreChoice(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, dir string)
		store   string
		wantErr error  // errors.Is
		errText string // or a substring of the error
	}{
		{name: "bolt refused on a wal holding the log", store: StoreBolt, wantErr: ErrWALInUse,
			prepare: func(t *testing.T, dir string) {
				n := openOn(t, dir, freeAddr(t), StoreWAL)
				writeFixture(t, n, 0, 3)
				n.Close()
			}},
		{name: "bolt refused after a migration", store: StoreBolt, wantErr: ErrWALInUse,
			prepare: func(t *testing.T, dir string) {
				n := openOn(t, dir, freeAddr(t), StoreBolt)
				writeFixture(t, n, 0, 3)
				n.Close()
				n = openOn(t, dir, freeAddr(t), StoreWAL)
				n.Close()
			}},
		{name: "bolt beside an empty wal", store: StoreBolt,
			prepare: func(t *testing.T, dir string) {
				w, err := openWAL(filepath.Join(dir, "raft", walDirName), slog.Default())
				if err != nil {
					t.Fatal(err)
				}
				w.Close()
			}},
		{name: "unknown store", store: "leveldb", errText: `unknown store "leveldb"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.prepare != nil {
				tc.prepare(t, dir)
			}
			n, err := Open(Config{NodeID: "n1", DataDir: dir, Bind: freeAddr(t), Bootstrap: true, Store: tc.store}, state.New())
			if n != nil {
				defer n.Close()
			}
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			case tc.errText != "" && (err == nil || !strings.Contains(err.Error(), tc.errText)):
				t.Fatalf("err = %v, want one containing %q", err, tc.errText)
			case tc.wantErr == nil && tc.errText == "" && err != nil:
				t.Fatalf("open: %v", err)
			}
			if err != nil {
				// A refused store is left as it was: no bolt file appears.
				if _, serr := os.Stat(filepath.Join(dir, "raft", boltFile)); tc.store == StoreBolt && !errors.Is(serr, os.ErrNotExist) {
					t.Errorf("raft.db created by a refused open (stat err %v)", serr)
				}
			}
		})
	}
}
