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
	via := (li + 1) % 3
	other := 3 - li - via
	ok := registerThroughKill(t, nodes, li, via, users, func(killed time.Time) {
		// Time to the first write committed after the kill.
		var resumed time.Duration
		waitFor(t, 15*time.Second, func() error {
			_, err := nodes[other].ctl("user", "add", "after-kill", "--password", "pw")
			if err == nil {
				resumed = time.Since(killed)
			}
			return err
		})
		t.Logf("first write committed %v after the leader was killed", resumed.Round(time.Millisecond))
		// The new leader reports the killed node unreachable.
		waitUnhealthy(t, nodes[via], fmt.Sprintf("n%d", li+1))
	})
	rejoinAndAgree(t, nodes, li, ok, "after-kill")
}

// TestClusterFollowerKilledDuringRegisters: the same with a follower
// killed while it replicates the registrations sipp sends through the
// other follower: the leader and that follower keep committing, and the
// killed follower, restarted on the data directory it was writing when
// it died, catches up without corruption: every node holds the same
// bindings and `parleyctl cluster status` shows all three healthy.
func TestClusterFollowerKilledDuringRegisters(t *testing.T) {
	const users = 600
	nodes := startCluster(t, 3, "--flood-rate", "0")
	nodes[0].importUsers(t, users)
	li := leaderOf(t, nodes)
	victim, via := (li+1)%3, (li+2)%3
	ok := registerThroughKill(t, nodes, victim, via, users, func(time.Time) {
		// Writes go on with the leader and one follower.
		if _, err := nodes[via].ctl("user", "add", "after-kill", "--password", "pw"); err != nil {
			t.Fatalf("write with a follower down: %v", err)
		}
		waitUnhealthy(t, nodes[li], fmt.Sprintf("n%d", victim+1))
	})
	if got := leaderOf(t, nodes); got != li {
		t.Errorf("leadership moved from n%d to n%d when a follower died", li+1, got+1)
	}
	rejoinAndAgree(t, nodes, victim, ok, "after-kill")
	for _, p := range nodes {
		waitCluster(t, p, 3, 20*time.Second)
	}
}

// registerThroughKill runs a sipp REGISTER load of users through
// nodes[via], kills nodes[victim] with SIGKILL three seconds in, calls
// afterKill, and once sipp is done checks that every REGISTER that got
// 200 is present on the survivors. It returns those users.
func registerThroughKill(t *testing.T, nodes []*parleyd, victim, via, users int, afterKill func(killed time.Time)) map[string]bool {
	t.Helper()
	load := startRegisterLoad(t, nodes[via].sipAddr(), 0, users, 60)
	time.Sleep(3 * time.Second)
	nodes[victim].kill9()
	afterKill(time.Now())
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
	for i, p := range nodes {
		if i != victim {
			waitFor(t, 10*time.Second, func() error { return missing(p, ok) })
		}
	}
	return ok
}

// waitUnhealthy waits until p's cluster status shows member id unreachable.
func waitUnhealthy(t *testing.T, p *parleyd, id string) {
	t.Helper()
	waitFor(t, 10*time.Second, func() error {
		st, err := p.clusterStatus()
		if err != nil {
			return err
		}
		for _, m := range st.Members {
			if m.ID == id && m.Known && !m.Healthy {
				return nil
			}
		}
		return fmt.Errorf("status does not show %s unreachable: %+v", id, st.Members)
	})
}

// rejoinAndAgree restarts the killed nodes[victim] on its data directory
// and waits until it holds every acknowledged binding, the same number
// of bindings as each survivor, and user (written while it was down).
func rejoinAndAgree(t *testing.T, nodes []*parleyd, victim int, ok map[string]bool, user string) {
	t.Helper()
	back := nodes[victim]
	back.start()
	waitFor(t, 20*time.Second, func() error {
		if err := missing(back, ok); err != nil {
			return err
		}
		got, err := back.bindingCount()
		if err != nil {
			return err
		}
		for i, p := range nodes {
			want, err := p.bindingCount()
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("restarted n%d has %d bindings, n%d %d", victim+1, got, i+1, want)
			}
		}
		_, err = back.ctl("user", "show", user)
		return err
	})
	waitCluster(t, nodes[(victim+1)%len(nodes)], len(nodes), 20*time.Second)
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
