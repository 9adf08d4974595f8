package node

import (
	"testing"
	"time"

	"github.com/parley-rtc/parley/core/config"
	"github.com/parley-rtc/parley/core/resolve/resolvetest"
)

// TestNodePartnerByStaticRoute: a partner without a next hop is reached
// by a static route for its domain before DNS; without the route, DNS
// (which knows no server for it) decides: 404.
func TestNodePartnerByStaticRoute(t *testing.T) {
	dns := resolvetest.Start(t)
	n := startNodeWith(t, func(c *config.Config) { c.DNSServer = dns.Addr })
	gw := newPeer(t, "gw", 200, nil)
	n.addUser(t, "alice", "pw-alice")
	alice := newUA(t, "alice")
	n.adminCall(t, "POST", "/v1/partners", map[string]any{"domain": "static.example"}, 201)
	n.adminCall(t, "POST", "/v1/routes", map[string]any{"id": "static", "match": "domain:static.example", "next_hop": "sip:" + gw.addr}, 201)
	if res := alice.do(t, n, messageTo(t, "sip:bob@static.example"), "alice", "pw-alice"); res.StatusCode != 200 {
		t.Fatalf("partner by static route: %d %s", res.StatusCode, res.Reason)
	}
	if got := gw.next(t, 2*time.Second); got.Recipient.Host != "static.example" {
		t.Fatalf("gateway got %s", got.Recipient.String())
	}
	n.adminCall(t, "DELETE", "/v1/routes/static", nil, 204)
	if res := alice.do(t, n, messageTo(t, "sip:bob@static.example"), "alice", "pw-alice"); res.StatusCode != 404 {
		t.Fatalf("partner DNS knows nothing of: %d %s, want 404", res.StatusCode, res.Reason)
	}
}
