package node

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/config"
	"github.com/parley-rtc/parley/internal/testpki"
)

// TestEdgeThroughDirector: an edge whose inward next hop is a director.
// A partner's MESSAGE for alice, registered on home node n2, goes partner
// -> edge (mutual TLS) -> director n3 (its trusted listener) -> n2's
// cluster link -> alice's flow: the director routes it like any request,
// to the best binding through its home node.
func TestEdgeThroughDirector(t *testing.T) {
	ca := newPKI(t)
	dirTrusted := freePort(t)
	ns := startClusterWith(t, func(i int, c *config.Config) {
		if i == 2 {
			c.SIPListen = append(c.SIPListen, fmt.Sprintf("udp://127.0.0.1:%d?trust=trusted", dirTrusted))
		}
	}, state.RoleHome, state.RoleHome, state.RoleDirector)
	addClusterUser(t, ns, "alice", "wonder")
	alice := newUA(t, "alice")
	if res := alice.register(t, ns[1], "alice", "wonder"); res.StatusCode != 200 {
		t.Fatalf("alice on n2: %d", res.StatusCode)
	}
	waitHome(t, ns, "alice", alice.port, "n2")

	edgeExt := freePort(t)
	edgeCert, edgeKey := testpki.WritePair(t, ca.server(t, "edge.parley.test"))
	edge := startNodeWith(t, func(c *config.Config) {
		c.Role = config.RoleEdge
		c.SIPListen = append(c.SIPListen, fmt.Sprintf("tls://127.0.0.1:%d?trust=server", edgeExt))
		c.TLSCert, c.TLSKey, c.TLSCA, c.TrustedPeers = edgeCert, edgeKey, ca.caFile, []string{"member.parley.test"}
		c.EdgeInward = []string{fmt.Sprintf("sip:127.0.0.1:%d", dirTrusted)}
	})
	kam := newPeer(t, "kam", 200, ca.tlsFor(ca.server(t, "sip.kam.example")))
	edge.adminCall(t, "POST", "/v1/partners", map[string]any{"domain": "kam.example", "identity": "sip.kam.example",
		"next_hop": "sip:" + kam.addr + ";transport=tls"}, 201)

	msg := sip.NewRequest(sip.MESSAGE, sipURI(t, "sip:alice@localhost;transport=tls"))
	msg.AppendHeader(&sip.FromHeader{Address: sipURI(t, "sip:bob@kam.example"), Params: tagParams()})
	msg.SetBody([]byte("hello through the director"))
	if res := kam.send(msg, fmt.Sprintf("127.0.0.1:%d", edgeExt), 5*time.Second); res == nil || res.StatusCode != 200 {
		t.Fatalf("partner to alice through edge and director: %v", res)
	}
	select {
	case req := <-alice.got:
		var vias []string
		for _, h := range req.GetHeaders("Via") {
			vias = append(vias, h.Value())
		}
		// alice's flow is n2's; before that the director's end of the link,
		// the edge and the partner.
		if len(vias) != 4 || !strings.Contains(vias[0], ns[1].sip) || !strings.Contains(vias[1], ns[2].cfg.ClusterSIP) ||
			!strings.Contains(vias[2], edge.sip) || !strings.HasPrefix(vias[3], "SIP/2.0/TLS") {
			t.Fatalf("alice got the MESSAGE via %q, want n2, the director's link, the edge, the partner", vias)
		}
		if string(req.Body()) != "hello through the director" {
			t.Fatalf("alice got %q", req.Body())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("MESSAGE not delivered")
	}
	if n := raftOf(t, ns[2]).State().BindingCount(); n != 1 {
		t.Errorf("bindings seen by the director: %d, want alice's one", n)
	}
}
