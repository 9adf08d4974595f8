package raftnode

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
)

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func open(t testing.TB, dir, addr string) *Node {
	t.Helper()
	return openOn(t, dir, addr, "")
}

// openOn opens a bootstrapping node n1 on the given raft store and waits
// until it is ready.
func openOn(t testing.TB, dir, addr, store string) *Node {
	t.Helper()
	n, err := Open(Config{NodeID: "n1", DataDir: dir, Bind: addr, Bootstrap: true, Store: store}, state.New())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSingleNodeWriteSurvivesRestart(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	n := open(t, dir, addr)
	secret := n.State().Secret()
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		u := state.User{Username: fmt.Sprintf("u%d", i), Domain: "localhost", Enabled: true}
		if _, err := n.Write(ctx, state.CmdUserPut, state.UserPut{Users: []state.User{u}, Create: true}); err != nil {
			t.Fatal(err)
		}
	}
	// An apply-level error comes back as the error.
	dup := state.User{Username: "u1", Domain: "localhost"}
	if _, err := n.Write(ctx, state.CmdUserPut, state.UserPut{Users: []state.User{dup}, Create: true}); err == nil {
		t.Fatal("creating an existing user succeeded")
	}
	if st := n.Status(); st.State != "Leader" || len(st.Members) != 1 || st.AppliedIndex == 0 {
		t.Fatalf("status %+v", st)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n2 := open(t, dir, addr)
	defer n2.Close()
	if got := n2.State().UserCount(); got != 50 {
		t.Fatalf("after restart %d users, want 50", got)
	}
	if string(n2.State().Secret()) != string(secret) {
		t.Fatal("cluster secret changed across restart")
	}
}

func TestConcurrentWritesBatch(t *testing.T) {
	n := open(t, t.TempDir(), freeAddr(t))
	defer n.Close()
	const writers, each = 32, 20
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		go func(w int) {
			for i := 0; i < each; i++ {
				u := state.User{Username: fmt.Sprintf("w%d-%d", w, i), Domain: "localhost"}
				if _, err := n.Write(context.Background(), state.CmdUserPut, state.UserPut{Users: []state.User{u}}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < writers; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := n.State().UserCount(); got != writers*each {
		t.Fatalf("%d users, want %d", got, writers*each)
	}
}
