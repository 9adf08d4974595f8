//go:build interop

package interop

import (
	"fmt"
	"sort"
	"testing"
	"time"
)

// TestClusterLeaderKilledDuringRegisters: sipp registers users through a
// follower while the leader is killed with SIGKILL. Every REGISTER that
// got 200 is present on both survivors; writes resume; the killed node,
// restarted on its data directory, catches up and agrees with them.
func TestClusterLeaderKilledDuringRegisters(t *testing.T) {
	const users = 600
	nodes := startCluster(t, 3, "--flood-rate", "0")
	nodes[0].importUsers(t, users)
	li := leaderOf(t, nodes)
	leader := nodes[li]
	var survivors []*parleyd
	for i, p := range nodes {
		if i != li {
			survivors = append(survivors, p)
		}
	}
	target := survivors[0]
	load := startRegisterLoad(t, target.sipAddr(), 0, users, 60)
	time.Sleep(3 * time.Second)
	leader.kill9()
	killed := time.Now()

	// Time to the first write committed after the kill.
	var resumed time.Duration
	waitFor(t, 15*time.Second, func() error {
		_, err := survivors[1].ctl("user", "add", "after-kill", "--password", "pw")
		if err == nil {
			resumed = time.Since(killed)
		}
		return err
	})
	t.Logf("first write committed %v after the leader was killed", resumed.Round(time.Millisecond))
	// The new leader reports the killed node unreachable.
	deadID := fmt.Sprintf("n%d", li+1)
	waitFor(t, 10*time.Second, func() error {
		st, err := survivors[0].clusterStatus()
		if err != nil {
			return err
		}
		for _, m := range st.Members {
			if m.ID == deadID && m.Known && !m.Healthy {
				return nil
			}
		}
		return fmt.Errorf("status does not show %s unreachable: %+v", deadID, st.Members)
	})

	select {
	case <-load.done:
	case <-time.After(140 * time.Second):
		t.Fatal("sipp did not finish")
	}
	ok, refused := load.outcomes()
	t.Logf("REGISTER outcomes: %d x 200, %d x 503, %d other (sipp: %v)", len(ok), len(refused), users-len(ok)-len(refused), load.err)
	if len(ok)+len(refused) < users {
		t.Logf("sipp errors (tail):\n%s", tailFile(load.errFile, 4<<10))
	}
	if len(ok) < users/2 {
		t.Fatalf("only %d of %d REGISTERs got 200", len(ok), users)
	}
	for _, p := range survivors {
		waitFor(t, 10*time.Second, func() error { return missing(p, ok) })
	}

	// The killed leader comes back on its data directory and agrees.
	leader.start()
	waitFor(t, 20*time.Second, func() error {
		if err := missing(leader, ok); err != nil {
			return err
		}
		want, err := survivors[0].boundUsers()
		if err != nil {
			return err
		}
		got, err := leader.boundUsers()
		if err != nil {
			return err
		}
		if len(got) != len(want) {
			return fmt.Errorf("restarted node has %d bound users, survivors %d", len(got), len(want))
		}
		_, err = leader.ctl("user", "show", "after-kill")
		return err
	})
	waitCluster(t, survivors[0], 3, 20*time.Second)
}

// missing reports users that got 200 but have no binding on p.
func missing(p *parleyd, ok map[string]bool) error {
	have, err := p.boundUsers()
	if err != nil {
		return err
	}
	var lost []string
	for u := range ok {
		if !have[u] {
			lost = append(lost, u)
		}
	}
	if len(lost) > 0 {
		sort.Strings(lost)
		return fmt.Errorf("node on admin port %d lacks %d acknowledged bindings, e.g. %v", p.adminPort, len(lost), lost[:min(5, len(lost))])
	}
	return nil
}
