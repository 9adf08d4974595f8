package node

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/config"
)

// TestClusterSingletonClaims: two singleton entries of the verbs test
// plugin, one critical (it sees INFO only, so the other's requests
// never meet it), both leased to n1. A request for a claimed address
// sent to n2, where they do not run, is answered by the plugin on n1
// over the cluster link; a request neither claims passes n2 (the
// critical entry runs, elsewhere); once n1 is gone the non-critical
// claim gets 480 and the critical one 503.
func TestClusterSingletonClaims(t *testing.T) {
	dir := buildPlugins(t)
	ns := startClusterWith(t, func(_ int, c *config.Config) { c.PluginDir = dir }, state.RoleHome, state.RoleHome)
	addClusterUser(t, ns, "alice", "pw-alice")
	leader := leaderOf(t, ns)
	// The leases go to n1 before the entries exist, so no node's host
	// can take them first; n1's host renews them from then on.
	for _, name := range []string{"gw", "crit"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := raftOf(t, leader).Write(ctx, state.CmdPluginLease, state.PluginLease{Plugin: name, Node: "n1", TTL: int64(15 * time.Second)})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	leader.adminCall(t, "POST", "/v1/apps", map[string]any{"name": "gw", "kind": "plugin", "command": "verbs", "position": 50,
		"enabled": true, "singleton": true, "claims": []string{"*@gw.example"}}, 201)
	leader.adminCall(t, "POST", "/v1/apps", map[string]any{"name": "crit", "kind": "plugin", "command": "verbs", "position": 51,
		"enabled": true, "singleton": true, "critical": true, "claims": []string{"*@crit.example"}, "methods": []string{"INFO"}}, 201)
	alice := newUA(t, "alice")

	// Runs on n1 only; n2 hands its claims over.
	for _, r := range []struct {
		method sip.RequestMethod
		uri    string
	}{{sip.MESSAGE, "sip:x@gw.example"}, {sip.INFO, "sip:x@crit.example"}} {
		untilStatus(t, 202, func() *sip.Response { return alice.send(t, ns[0], r.method, r.uri, "hi") })
		if res := alice.send(t, ns[1], r.method, r.uri, "hi"); res.StatusCode != 202 {
			t.Fatalf("%s through n2, not the lease holder: %d %s", r.uri, res.StatusCode, res.Reason)
		}
	}
	// An INFO for nobody's address passes the critical entry on n2 (the
	// foreign domain's 403 is the router's answer, not the chain's 503).
	if res := alice.send(t, ns[1], sip.INFO, "sip:x@unclaimed.example", "hi"); res.StatusCode == 503 {
		t.Fatalf("unclaimed request on a node where a running critical singleton is not: %d %s", res.StatusCode, res.Reason)
	}

	// No live holder: the claim is skipped (480), or 503 when critical.
	ns[0].stop(t)
	untilStatus(t, 480, func() *sip.Response { return alice.sendTo(t, ns[1], "sip:x@gw.example", "hi") })
	if res := alice.send(t, ns[1], sip.INFO, "sip:x@crit.example", "hi"); res.StatusCode != 503 {
		t.Fatalf("critical singleton with no live holder: %d %s", res.StatusCode, res.Reason)
	}
}
