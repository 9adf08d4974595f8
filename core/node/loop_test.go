package node

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/config"
)

// TestNodeRoutingLoop: a static route whose next hop is the node itself
// (an operator's mistake) sends a request round and round; it ends with
// 482 Loop Detected once it carries our Via maxSpirals times, or with 483
// Too Many Hops when Max-Forwards runs out first, and the answer comes
// back to the sender along the loop.
func TestNodeRoutingLoop(t *testing.T) {
	trusted := freePort(t)
	self := fmt.Sprintf("127.0.0.1:%d", trusted)
	n := startNodeWith(t, func(c *config.Config) {
		c.SIPListen = append(c.SIPListen, "udp://"+self+"?trust=trusted")
	})
	n.adminCall(t, "POST", "/v1/routes", map[string]any{"match": "domain:loop.example", "next_hop": "sip:" + self}, 201)
	gw := newRawUDP(t)
	cases := []struct {
		name        string
		maxForwards int
		want        int
	}{
		{"spiral limit", 70, 482},
		{"hop limit", 2, 483},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gw.send(t, self, fmt.Sprintf("MESSAGE sip:bob@loop.example SIP/2.0\r\n"+
				"Via: SIP/2.0/UDP %s;branch=z9hG4bK-loop-%d\r\nMax-Forwards: %d\r\n"+
				"From: <sip:gw@localhost>;tag=l%d\r\nTo: <sip:bob@loop.example>\r\nCall-ID: loop-%d@test\r\n"+
				"CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n", gw.addr, i, tc.maxForwards, i, i))
			res := gw.await(t, 10*time.Second, func(m sip.Message) bool {
				r, ok := m.(*sip.Response)
				return ok && r.StatusCode >= 200
			}).(*sip.Response)
			if res.StatusCode != tc.want {
				t.Fatalf("answered %d %s, want %d", res.StatusCode, res.Reason, tc.want)
			}
			if v := res.Via(); v == nil || !strings.Contains(v.Value(), fmt.Sprintf("z9hG4bK-loop-%d", i)) {
				t.Fatalf("answer for another branch: %v", res.Via())
			}
		})
	}
}

// TestNodeTrustFollowsArrivalSocket: one sender port talking to both a
// client and a trusted UDP listener gets each request judged by the
// listener it reached. sipgo files a sender's address under the socket
// that last read from it, but a socket files it only when its previous
// sender differed, so after trusted, client, trusted the third request's
// transaction held the client socket and was challenged (the looping node
// of TestNodeRoutingLoop is such a sender: it sends to itself from its
// client port and answers that port from its trusted one). The requests
// to the client listener carry credentials, so sipgo reads them (the read
// loop challenges only requests without).
func TestNodeTrustFollowsArrivalSocket(t *testing.T) {
	trusted := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	n := startNodeWith(t, func(c *config.Config) {
		c.SIPListen = append(c.SIPListen, "udp://"+trusted+"?trust=trusted")
	})
	peer := newRawUDP(t)
	const creds = "Proxy-Authorization: Digest username=\"gw\", realm=\"localhost\", nonce=\"x\", uri=\"sip:nobody@localhost\", response=\"00000000000000000000000000000000\"\r\n"
	steps := []struct {
		to     string
		client bool // want the client policy: a challenge or refusal
	}{
		{trusted, false},
		{n.sip, true},
		{trusted, false},
		{n.sip, true},
		{trusted, false},
	}
	for i, st := range steps {
		extra := ""
		if st.client {
			extra = creds
		}
		branch := fmt.Sprintf("z9hG4bK-arr-%d", i)
		peer.send(t, st.to, fmt.Sprintf("MESSAGE sip:nobody@localhost SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP %s;branch=%s\r\nMax-Forwards: 70\r\n"+
			"From: <sip:gw@localhost>;tag=a%d\r\nTo: <sip:nobody@localhost>\r\nCall-ID: arr-%d@test\r\n"+
			"CSeq: 1 MESSAGE\r\n%sContent-Length: 0\r\n\r\n", peer.addr, branch, i, i, extra))
		res := peer.await(t, 10*time.Second, func(m sip.Message) bool {
			r, ok := m.(*sip.Response)
			return ok && r.StatusCode >= 200 && r.Via() != nil && strings.Contains(r.Via().Value(), branch)
		}).(*sip.Response)
		refused := res.StatusCode == 401 || res.StatusCode == 403 || res.StatusCode == 407
		if refused != st.client {
			t.Fatalf("step %d to %s: answered %d %s, want client policy %v", i, st.to, res.StatusCode, res.Reason, st.client)
		}
	}
}
