package node

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/config"
)

// TestNodeClientRoutingHeadersRemoved: a client's initial request loses
// the Route and Record-Route headers it brought before anything routes
// it: it reaches the registered user, carrying neither.
func TestNodeClientRoutingHeadersRemoved(t *testing.T) {
	n := startNode(t)
	n.addUser(t, "alice", "pw-alice")
	n.addUser(t, "bob", "pw-bob")
	alice, bob := newPeer(t, "alice", 200, nil), newPeer(t, "bob", 200, nil)
	bob.register(t, n, "bob", "pw-bob")
	trap := newRawUDP(t)
	msg := sip.NewRequest(sip.MESSAGE, sipURI(t, "sip:bob@localhost"))
	msg.AppendHeader(&sip.FromHeader{Address: sipURI(t, "sip:alice@localhost"), Params: tagParams()})
	msg.AppendHeader(&sip.ToHeader{Address: sipURI(t, "sip:bob@localhost")})
	msg.AppendHeader(sip.NewHeader("Route", "<sip:"+trap.addr+";lr>"))
	msg.AppendHeader(sip.NewHeader("Record-Route", "<sip:"+trap.addr+";lr>"))
	msg.SetBody([]byte("no detours"))
	if res := alice.digest(t, msg, n.sip, "alice", "pw-alice"); res.StatusCode != 200 {
		t.Fatalf("MESSAGE: %d", res.StatusCode)
	}
	got := bob.next(t, 2*time.Second)
	if s := got.String(); strings.Contains(s, trap.addr) {
		t.Fatalf("bob got the client's routing headers:\n%s", s)
	}
}

// TestNodeTrustedNotThrottled: requests over a trusted listener are not
// limited to max-tx-per-conn outstanding transactions: twice the limit,
// all outstanding at once towards a silent next hop, are all forwarded.
func TestNodeTrustedNotThrottled(t *testing.T) {
	trusted := freePort(t)
	self := fmt.Sprintf("127.0.0.1:%d", trusted)
	silent := newRawUDP(t)
	n := startNodeWith(t, func(c *config.Config) {
		c.SIPListen = append(c.SIPListen, "udp://"+self+"?trust=trusted")
		c.MaxTxPerConn = 2
	})
	n.adminCall(t, "POST", "/v1/routes", map[string]any{"match": "phone:+1", "next_hop": "sip:" + silent.addr}, 201)
	gw := newRawUDP(t)
	const count = 4
	for i := 0; i < count; i++ {
		gw.send(t, self, fmt.Sprintf("MESSAGE tel:+1555010%d SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP %s;branch=z9hG4bK-many-%d\r\nMax-Forwards: 70\r\n"+
			"From: <sip:gw@localhost>;tag=m%d\r\nTo: <tel:+1555010%d>\r\nCall-ID: many-%d@test\r\n"+
			"CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n", i, gw.addr, i, i, i, i))
	}
	seen := map[string]bool{}
	for len(seen) < count {
		m := silent.await(t, 5*time.Second, func(m sip.Message) bool { _, ok := m.(*sip.Request); return ok })
		seen[string(*m.(*sip.Request).CallID())] = true
	}
	if strings.Contains(n.metrics(t), `reason="throttled"`) {
		t.Fatal("a trusted request was throttled")
	}
}
