package node

import (
	"strings"
	"testing"
	"time"
)

// TestClusterEndpointFailover: carol has endpoints on n2 and n3, n3's the
// most recent (so the best). n3 stops before n1's liveness probes can
// notice (they are slowed down to once a minute): the very next MESSAGE
// alice sends through n1 finds n3's link refusing, and the same request
// goes on to carol's endpoint on n2. n1 then takes n3 for down, so the
// following MESSAGE goes to n2 without another failover; bob, whose only
// endpoint was on n3, is stored for him (202, core/offline).
func TestClusterEndpointFailover(t *testing.T) {
	prev := livenessInterval
	livenessInterval = time.Minute
	t.Cleanup(func() { livenessInterval = prev }) // runs after the nodes stopped
	ns := startCluster(t, "home", "home", "home")
	for _, u := range []string{"alice", "bob", "carol"} {
		addClusterUser(t, ns, u, "pw-"+u)
	}
	alice, bob, carol2, carol3 := newUA(t, "alice"), newUA(t, "bob"), newUA(t, "carol2"), newUA(t, "carol3")
	registerAll(t, ns, placement{carol2, ns[1], "carol"}, placement{carol3, ns[2], "carol"}, placement{bob, ns[2], "bob"})
	if res := alice.message(t, ns[0], "alice", "carol", "pw-alice"); res.StatusCode != 200 {
		t.Fatalf("to carol: %d", res.StatusCode)
	}
	expectMessage(t, carol3, ns[2].sip) // n1 now has a connection to n3's link

	ns[2].stop(t)
	if res := alice.message(t, ns[0], "alice", "carol", "pw-alice"); res.StatusCode != 200 {
		t.Fatalf("to carol right after n3 stopped: %d %s, want her endpoint on n2", res.StatusCode, res.Reason)
	}
	expectMessage(t, carol2, ns[1].sip)
	const failovers = `parley_sip_forwarded_total{method="MESSAGE",outcome="failover"} `
	if m := ns[0].metrics(t); !strings.Contains(m, failovers+"1\n") {
		t.Fatalf("n1 counted no failover: %s", grepLines(m, "outcome="))
	}
	if res := alice.message(t, ns[0], "alice", "carol", "pw-alice"); res.StatusCode != 200 {
		t.Fatalf("to carol again: %d", res.StatusCode)
	}
	expectMessage(t, carol2, ns[1].sip)
	if res := alice.message(t, ns[0], "alice", "bob", "pw-alice"); res.StatusCode != 202 {
		t.Errorf("bob, only on n3: %d, want 202 (stored offline)", res.StatusCode)
	}
	if m := ns[0].metrics(t); !strings.Contains(m, failovers+"1\n") {
		t.Errorf("n1 still tries n3 after it refused: %s", grepLines(m, "outcome="))
	}
}

// grepLines returns the lines of text containing sub.
func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
