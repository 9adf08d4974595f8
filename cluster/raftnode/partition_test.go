package raftnode

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestMinorityPartition: a node cut off from the other two refuses
// writes with ErrNoQuorum but keeps its local reads; the majority elects
// a leader if needed and takes writes; after healing all three agree.
func TestMinorityPartition(t *testing.T) {
	c := newTestCluster(t)
	nodes := c.start(3)
	ctx := context.Background()
	if err := putUser(ctx, nodes[0], "before"); err != nil {
		t.Fatal(err)
	}
	// Cut the leader off: the harder case (it must step down).
	l := leaderOf(t, nodes)
	majority := others(nodes, l)
	eventually(t, 5*time.Second, func() error {
		for _, n := range nodes {
			if !hasUser(n, "before") {
				return fmt.Errorf("%s lacks before", n.cfg.NodeID)
			}
		}
		return nil
	})
	c.partition(l.cfg.NodeID, true)

	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	start := time.Now()
	err := putUser(wctx, l, "minority")
	cancel()
	if !errors.Is(err, ErrNoQuorum) {
		t.Fatalf("write on the minority side: %v, want ErrNoQuorum", err)
	}
	t.Logf("minority write refused after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if !hasUser(l, "before") {
		t.Fatal("minority lost its local reads")
	}

	newLeader := leaderOf(t, majority)
	for i, n := range majority {
		if err := putUser(ctx, n, fmt.Sprintf("majority-%d", i)); err != nil {
			t.Fatalf("write on the majority (%s, leader %s): %v", n.cfg.NodeID, newLeader.cfg.NodeID, err)
		}
	}

	c.partition(l.cfg.NodeID, false)
	eventually(t, 15*time.Second, func() error {
		for _, n := range nodes {
			for _, u := range []string{"majority-0", "majority-1"} {
				if !hasUser(n, u) {
					return fmt.Errorf("%s lacks %s after healing", n.cfg.NodeID, u)
				}
			}
			if hasUser(n, "minority") {
				return fmt.Errorf("%s has the refused write", n.cfg.NodeID)
			}
			if n.State().LastIndex() != nodes[0].State().LastIndex() {
				return fmt.Errorf("applied indexes differ")
			}
		}
		return nil
	})
	if err := putUser(ctx, l, "healed"); err != nil {
		t.Fatalf("write on the healed node: %v", err)
	}
}
