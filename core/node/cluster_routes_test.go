package node

import (
	"fmt"
	"testing"
	"time"
)

// TestClusterStaticRoutesApplyEverywhere: a static route added on one
// member routes requests on another at once, without a restart, and its
// removal on a third stops that.
func TestClusterStaticRoutesApplyEverywhere(t *testing.T) {
	ns := startCluster(t, "home", "home", "home")
	addClusterUser(t, ns, "alice", "pw-alice")
	alice, gw := newUA(t, "alice"), newUA(t, "gw")
	ns[0].adminCall(t, "POST", "/v1/routes", map[string]any{"id": "pstn", "match": "phone:+1",
		"next_hop": fmt.Sprintf("sip:127.0.0.1:%d", gw.port)}, 201)
	deadline := time.Now().Add(5 * time.Second)
	for {
		res := alice.sendTo(t, ns[2], "sip:+15550100@localhost;user=phone", "to the gateway")
		if res.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("n3 with n1's route: %d %s", res.StatusCode, res.Reason)
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case req := <-gw.got:
		if string(req.Body()) != "to the gateway" {
			t.Fatalf("gateway got %q", req.Body())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the gateway got nothing")
	}
	ns[1].adminCall(t, "DELETE", "/v1/routes/pstn", nil, 204)
	for {
		res := alice.sendTo(t, ns[2], "sip:+15550100@localhost;user=phone", "after removal")
		if res.StatusCode != 200 {
			break
		}
		if time.Now().After(deadline.Add(5 * time.Second)) {
			t.Fatal("n3 still routes by the removed route")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
