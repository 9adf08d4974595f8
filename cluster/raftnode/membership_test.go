package raftnode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// TestJoinForwardReadYourWrites: three nodes join through followers,
// become voters, publish their metadata; a write on any node returns
// once it is applied on that node and reaches all.
func TestJoinForwardReadYourWrites(t *testing.T) {
	c := newTestCluster(t)
	nodes := c.start(3)
	ctx := context.Background()
	for i, n := range nodes {
		name := fmt.Sprintf("via-%d", i)
		if err := putUser(ctx, n, name); err != nil {
			t.Fatalf("write on %s: %v", n.cfg.NodeID, err)
		}
		if !hasUser(n, name) {
			t.Fatalf("%s: own write not visible right after it returned", n.cfg.NodeID)
		}
	}
	for _, n := range nodes {
		eventually(t, 5*time.Second, func() error {
			for i := range nodes {
				if !hasUser(n, fmt.Sprintf("via-%d", i)) {
					return fmt.Errorf("%s lacks via-%d", n.cfg.NodeID, i)
				}
			}
			if got := len(n.State().Members()); got != 3 {
				return fmt.Errorf("%s knows %d members, want 3", n.cfg.NodeID, got)
			}
			m, ok := n.State().Member("n3")
			if !ok || m.AdminURL != "http://n3.test" || m.RaftAddr != c.addrs["n3"] || m.Role != "home" {
				return fmt.Errorf("%s: member n3 = %+v", n.cfg.NodeID, m)
			}
			return nil
		})
	}
	// An apply-level error comes back through forwarding as the error.
	follower := nodes[0]
	if follower.IsLeader() {
		follower = nodes[1]
	}
	if err := createUser(ctx, follower, "via-0"); err == nil {
		t.Fatal("creating an existing user through a follower succeeded")
	}
	st := leaderOf(t, nodes).Status()
	if len(st.Members) != 3 {
		t.Fatalf("status members %+v", st.Members)
	}
	for _, m := range st.Members {
		if m.Suffrage != "Voter" || (!m.Leader && !m.Healthy) {
			t.Errorf("member %+v not a healthy voter", m)
		}
	}
}

// TestNonvoterStaysAndRemove: a member added with voter=false stays a
// non-voter; removal and leadership transfer work from a follower.
func TestNonvoterStaysAndRemove(t *testing.T) {
	c := newTestCluster(t)
	nodes := c.start(3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n4 := c.open("n4", false)
	if err := nodes[1].AddMember(ctx, "n4", n4.Addr(), false); err != nil {
		t.Fatal(err)
	}
	waitReady(t, n4)
	time.Sleep(3 * promoteEvery)
	cfg, err := nodes[0].configuration()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Servers {
		if s.ID == "n4" && s.Suffrage != raft.Nonvoter {
			t.Fatalf("n4 is %v, want nonvoter", s.Suffrage)
		}
	}
	if err := putUser(ctx, n4, "from-replica"); err != nil {
		t.Fatalf("write through a non-voter: %v", err)
	}

	l := leaderOf(t, nodes)
	rest := others(nodes, l)
	target := rest[len(rest)-1]
	via := n4
	if err := via.TransferLeadership(ctx, target.cfg.NodeID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		if !target.IsLeader() {
			return errors.New("leadership not transferred")
		}
		return nil
	})
	if err := l.RemoveMember(ctx, "n4"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		cfg, err := target.configuration()
		if err != nil {
			return err
		}
		if len(cfg.Servers) != 3 {
			return fmt.Errorf("%d servers after removal", len(cfg.Servers))
		}
		if _, ok := target.State().Member("n4"); ok {
			return errors.New("n4 metadata still replicated")
		}
		return nil
	})
	if err := l.RemoveMember(ctx, "n9"); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("remove unknown: %v", err)
	}
	// A join naming the wrong node, or an address nobody listens on, is
	// refused before it enters the configuration.
	if err := l.AddMember(ctx, "n9", target.Addr(), true); !errors.Is(err, ErrMemberUnreachable) {
		t.Fatalf("add n9 at n's address: %v", err)
	}
	if err := l.AddMember(ctx, "n9", freeAddr(t), true); !errors.Is(err, ErrMemberUnreachable) {
		t.Fatalf("add n9 at a closed port: %v", err)
	}
}

// TestRestartDoesNotRejoin: a member restarted on its data directory
// comes back as the same member without joining or bootstrapping.
func TestRestartDoesNotRejoin(t *testing.T) {
	c := newTestCluster(t)
	nodes := c.start(3)
	if err := putUser(context.Background(), nodes[0], "before"); err != nil {
		t.Fatal(err)
	}
	n3 := nodes[2]
	n3.Close()
	if err := putUser(context.Background(), nodes[0], "while-down"); err != nil {
		t.Fatal(err)
	}
	again := c.open("n3", false)
	if !again.HadState() {
		t.Fatal("restarted node reports no prior state")
	}
	waitReady(t, again)
	eventually(t, 5*time.Second, func() error {
		if !hasUser(again, "before") || !hasUser(again, "while-down") {
			return errors.New("restarted node did not catch up")
		}
		return nil
	})
	c.waitVoters(nodes[0], 3)
}

// TestNewMemberCatchesUpFromSnapshot: after the log was compacted into a
// snapshot, a new member receives the snapshot plus the log after it.
func TestNewMemberCatchesUpFromSnapshot(t *testing.T) {
	c := newTestCluster(t)
	nodes := c.start(3)
	ctx := context.Background()
	const users = 400
	for i := range users {
		if err := putUser(ctx, nodes[i%3], fmt.Sprintf("s%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	l := leaderOf(t, nodes)
	if err := l.raft.Snapshot().Error(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	// Entries after the snapshot come from the log.
	if err := putUser(ctx, l, "after-snapshot"); err != nil {
		t.Fatal(err)
	}
	snaps, err := os.ReadDir(filepath.Join(c.dirs[l.cfg.NodeID], "raft", "snapshots"))
	if err != nil || len(snaps) == 0 {
		t.Fatalf("no snapshot on the leader: %v", err)
	}
	first, _ := l.store.FirstIndex()
	if first <= 1 {
		t.Fatalf("log not compacted: first index %d", first)
	}
	n4 := c.open("n4", false)
	if err := nodes[0].AddMember(ctx, "n4", n4.Addr(), true); err != nil {
		t.Fatal(err)
	}
	waitReady(t, n4)
	eventually(t, 10*time.Second, func() error {
		if got := n4.State().UserCount(); got != users+1 {
			return fmt.Errorf("n4 has %d users, want %d", got, users+1)
		}
		return nil
	})
	c.waitVoters(l, 4)
}

// TestRemoveLeaderItself: removing the leader through itself forgets its
// metadata, and the two others elect a leader and take writes.
func TestRemoveLeaderItself(t *testing.T) {
	c := newTestCluster(t)
	nodes := c.start(3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l := leaderOf(t, nodes)
	id := l.cfg.NodeID
	if err := l.RemoveMember(ctx, id); err != nil {
		t.Fatal(err)
	}
	rest := others(nodes, l)
	nl := leaderOf(t, rest)
	if err := putUser(ctx, rest[0], "after-removal"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		cfg, err := nl.configuration()
		if err != nil {
			return err
		}
		if len(cfg.Servers) != 2 {
			return fmt.Errorf("%d servers", len(cfg.Servers))
		}
		for _, n := range rest {
			if _, ok := n.State().Member(id); ok {
				return fmt.Errorf("%s still knows the removed leader %s", n.cfg.NodeID, id)
			}
		}
		return nil
	})
}
