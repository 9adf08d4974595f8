//go:build interop

package interop

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestClusterJoinAndReplicate: three parleyd processes form a cluster
// through --join (each through a follower); a user created on one node
// and a REGISTER on another are visible on all; leadership moves with
// parleyctl, and a member can be removed.
func TestClusterJoinAndReplicate(t *testing.T) {
	nodes := startCluster(t, 3)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]

	// A write on a follower returns once it is applied there.
	n3.addUser("alice", "secret")
	if out, err := n3.ctl("user", "show", "alice"); err != nil || !strings.Contains(out, "alice@localhost") {
		t.Fatalf("n3 does not read its own write: %v %s", err, out)
	}
	for _, p := range []*parleyd{n1, n2} {
		waitFor(t, 5*time.Second, func() error {
			_, err := p.ctl("user", "show", "alice")
			return err
		})
	}

	port := freePort(t)
	if _, err := runSipp(t, n2.sipAddr(), sipp{Scenario: "register.xml", User: "alice", Password: "secret",
		LocalPort: port, Keys: map[string]string{"expires": "600"}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range nodes {
		if err := p.waitBinding("alice", port, true, 5*time.Second); err != nil {
			t.Fatalf("port %d: %v", p.adminPort, err)
		}
	}

	// Move leadership to n3 through n2's admin API.
	if _, err := n2.ctl("cluster", "transfer-leader", "n3"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() error {
		st, err := n1.clusterStatus()
		if err != nil {
			return err
		}
		if st.Leader != "n3" {
			return fmt.Errorf("leader %q, want n3", st.Leader)
		}
		return nil
	})

	if _, err := n1.ctl("cluster", "remove", "n2"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() error {
		st, err := n3.clusterStatus()
		if err != nil {
			return err
		}
		if len(st.Members) != 2 {
			return fmt.Errorf("%d members after removing n2", len(st.Members))
		}
		return nil
	})
	n3.addUser("bob", "secret")
	if _, err := n1.ctl("user", "show", "bob"); err != nil {
		waitFor(t, 5*time.Second, func() error { _, err := n1.ctl("user", "show", "bob"); return err })
	}
}
