package raftnode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
)

// waitBatches waits until the leader writes batch entries (its member
// entry is published and checked).
func waitBatches(t testing.TB, n *Node) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		if !n.batchOK.Load() {
			return errors.New("batches still off")
		}
		return nil
	})
}

// Concurrent writes share log entries (the group commit), yet every
// writer gets its own command's result, and a restart replays them.
func TestGroupCommitSharesEntriesAndKeepsResults(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	n := open(t, dir, addr)
	waitBatches(t, n)
	ctx := context.Background()
	const writers = 200
	before := n.State().LastIndex()
	start := make(chan struct{})
	errs := make([]error, writers)
	res := make([]any, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			<-start
			// Writers 0 and 1 create the same user: exactly one of them
			// must hear ErrExists.
			name := fmt.Sprintf("g%d", max(w, 1))
			u := state.User{Username: name, Domain: "localhost", Enabled: true}
			res[w], errs[w] = n.Write(ctx, state.CmdUserPut, state.UserPut{Users: []state.User{u}, Create: true})
		})
	}
	close(start)
	wg.Wait()
	exists := 0
	for w := range writers {
		switch {
		case errors.Is(errs[w], state.ErrExists):
			exists++
		case errs[w] != nil:
			t.Fatalf("writer %d: %v", w, errs[w])
		default:
			if r, ok := res[w].(state.UserPutResult); !ok || r.Created != 1 {
				t.Fatalf("writer %d got %#v", w, res[w])
			}
		}
	}
	if exists != 1 {
		t.Fatalf("%d writers heard ErrExists, want 1", exists)
	}
	entries := n.State().LastIndex() - before
	if entries >= writers {
		t.Fatalf("%d writes took %d log entries: no batching", writers, entries)
	}
	t.Logf("%d writes in %d log entries", writers, entries)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n2 := open(t, dir, addr)
	defer n2.Close()
	if got := n2.State().UserCount(); got != writers-1 {
		t.Fatalf("after restart %d users, want %d", got, writers-1)
	}
}

// A member that does not publish the log version with batches (an older
// binary) turns them off, and the writes still commit one entry each.
func TestGroupCommitOffForOlderMember(t *testing.T) {
	n := open(t, t.TempDir(), freeAddr(t))
	defer n.Close()
	waitBatches(t, n)
	ctx := context.Background()
	old := state.Member{ID: "n1", LogVersion: state.LogVersion - 1}
	if _, err := n.Write(ctx, state.CmdMemberPut, state.MemberPut{Member: old}); err != nil {
		t.Fatal(err)
	}
	if ms := n.Status().Members; len(ms) != 1 || ms[0].LogVersion != state.LogVersion-1 {
		t.Fatalf("status members %+v", ms)
	}
	n.checkBatches()
	if n.batchOK.Load() {
		t.Fatal("batches on with a member at an older log version")
	}
	before := n.State().LastIndex()
	var wg sync.WaitGroup
	for w := range 20 {
		wg.Go(func() {
			u := state.User{Username: fmt.Sprintf("o%d", w), Domain: "localhost"}
			if _, err := n.Write(ctx, state.CmdUserPut, state.UserPut{Users: []state.User{u}}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := n.State().LastIndex() - before; got != 20 {
		t.Fatalf("20 writes took %d entries with batches off, want 20", got)
	}
	cur := state.Member{ID: "n1", LogVersion: state.LogVersion}
	if _, err := n.Write(ctx, state.CmdMemberPut, state.MemberPut{Member: cur}); err != nil {
		t.Fatal(err)
	}
	n.checkBatches()
	if !n.batchOK.Load() {
		t.Fatal("batches still off once every member applies them")
	}
}

// A write whose deadline passes while it waits for the group is not
// submitted late, and the caller hears the deadline.
func TestGroupCommitExpiredWrite(t *testing.T) {
	n := open(t, t.TempDir(), freeAddr(t))
	defer n.Close()
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := n.Write(ctx, state.CmdUserPut, state.UserPut{Users: []state.User{{Username: "late", Domain: "localhost"}}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want DeadlineExceeded", err)
	}
	if _, ok := n.State().User("late@localhost"); ok {
		t.Fatal("an expired write was applied")
	}
}

// asyncResult is what one WriteAsync callback got.
type asyncResult struct {
	res any
	err error
}

// WriteAsync on the leader: every callback runs exactly once with its own
// command's result (an apply error as the error), through batch entries.
func TestWriteAsyncOnLeader(t *testing.T) {
	n := open(t, t.TempDir(), freeAddr(t))
	defer n.Close()
	waitBatches(t, n)
	const writers = 100
	calls := make([]chan asyncResult, writers)
	before := n.State().LastIndex()
	for w := range writers {
		calls[w] = make(chan asyncResult, 2)
		name := fmt.Sprintf("a%d", max(w, 1)) // writers 0 and 1 create the same user
		u := state.User{Username: name, Domain: "localhost"}
		err := n.WriteAsync(state.CmdUserPut, state.UserPut{Users: []state.User{u}, Create: true}, time.Now().Add(10*time.Second),
			func(res any, err error) { calls[w] <- asyncResult{res, err} })
		if err != nil {
			t.Fatal(err)
		}
	}
	exists := 0
	for w := range writers {
		var r asyncResult
		select {
		case r = <-calls[w]:
		case <-time.After(10 * time.Second):
			t.Fatalf("writer %d: no callback", w)
		}
		switch {
		case errors.Is(r.err, state.ErrExists):
			exists++
		case r.err != nil:
			t.Fatalf("writer %d: %v", w, r.err)
		default:
			if res, ok := r.res.(state.UserPutResult); !ok || res.Created != 1 {
				t.Fatalf("writer %d got %#v", w, r.res)
			}
		}
	}
	if exists != 1 {
		t.Fatalf("%d callbacks heard ErrExists, want 1", exists)
	}
	if entries := n.State().LastIndex() - before; entries >= writers {
		t.Fatalf("%d writes took %d entries", writers, entries)
	}
	for w := range writers {
		select {
		case r := <-calls[w]:
			t.Fatalf("writer %d called twice: %#v", w, r)
		default:
		}
	}
}

// WriteAsync on a follower forwards the write; the callback runs once it
// is applied on the follower.
func TestWriteAsyncOnFollower(t *testing.T) {
	c := newTestCluster(t)
	nodes := c.start(3)
	l := leaderOf(t, nodes)
	f := others(nodes, l)[0]
	done := make(chan asyncResult, 1)
	u := state.User{Username: "fwd", Domain: "localhost"}
	if err := f.WriteAsync(state.CmdUserPut, state.UserPut{Users: []state.User{u}}, time.Now().Add(10*time.Second),
		func(res any, err error) { done <- asyncResult{res, err} }); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no callback")
	}
	if !hasUser(f, "fwd") {
		t.Fatal("the follower does not hold its own write yet")
	}
}

// Closing the node calls back every write still waiting, exactly once,
// and a write after the close is refused at once.
func TestWriteAsyncAcrossClose(t *testing.T) {
	n := open(t, t.TempDir(), freeAddr(t))
	waitBatches(t, n)
	const writers = 300
	var mu sync.Mutex
	count := make(map[int]int)
	var wg sync.WaitGroup
	for w := range writers {
		u := state.User{Username: fmt.Sprintf("c%d", w), Domain: "localhost"}
		wg.Add(1)
		err := n.WriteAsync(state.CmdUserPut, state.UserPut{Users: []state.User{u}}, time.Now().Add(10*time.Second),
			func(any, error) {
				mu.Lock()
				count[w]++
				mu.Unlock()
				wg.Done()
			})
		if err != nil {
			wg.Done()
			mu.Lock()
			count[w] = 1 // refused at once: no callback
			mu.Unlock()
		}
		if w == writers/2 {
			go n.Close()
		}
	}
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(15 * time.Second):
		t.Fatal("callbacks missing after close")
	}
	n.Close()
	mu.Lock()
	defer mu.Unlock()
	for w := range writers {
		if count[w] != 1 {
			t.Fatalf("writer %d: %d callbacks", w, count[w])
		}
	}
	if err := n.WriteAsync(state.CmdUserPut, state.UserPut{}, time.Now().Add(time.Second), func(any, error) {
		t.Error("callback after close")
	}); err == nil {
		t.Fatal("write after close accepted")
	}
}
