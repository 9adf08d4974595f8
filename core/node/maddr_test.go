package node

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/config"
)

// TestNodeMaddrStrictRoute: a Request-URI whose maddr does not name us is
// strict-routed to the maddr, not to the host (here our own domain): from
// a trusted connection it is forwarded there; from an authenticated
// client, to an IP no static route names, it is dropped and counted, and
// nothing reaches that IP.
func TestNodeMaddrStrictRoute(t *testing.T) {
	trusted := freePort(t)
	self := fmt.Sprintf("127.0.0.1:%d", trusted)
	n := startNodeWith(t, func(c *config.Config) {
		c.SIPListen = append(c.SIPListen, "udp://"+self+"?trust=trusted")
	})
	n.addUser(t, "alice", "pw-alice")
	trap, gw := newRawUDP(t), newRawUDP(t)
	_, trapPort, _ := strings.Cut(trap.addr, ":")
	ruri := "sip:bob@localhost:" + trapPort + ";maddr=127.0.0.1"

	gw.send(t, self, "MESSAGE "+ruri+" SIP/2.0\r\nVia: SIP/2.0/UDP "+gw.addr+";branch=z9hG4bK-maddr-1\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:gw@localhost>;tag=g1\r\nTo: <sip:bob@localhost>\r\nCall-ID: maddr-1@test\r\n"+
		"CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n")
	got := trap.await(t, 5*time.Second, func(m sip.Message) bool { _, ok := m.(*sip.Request); return ok }).(*sip.Request)
	if string(*got.CallID()) != "maddr-1@test" {
		t.Fatalf("trap got %s", got.CallID())
	}

	// The client case aims at another port: the trap keeps getting the
	// first MESSAGE's retransmissions (it never answers).
	trap2 := newRawUDP(t)
	_, trap2Port, _ := strings.Cut(trap2.addr, ":")
	alice := newUA(t, "alice")
	req := sip.NewRequest(sip.MESSAGE, sipURI(t, "sip:bob@localhost:"+trap2Port+";maddr=127.0.0.1"))
	req.AppendHeader(&sip.FromHeader{Address: sipURI(t, "sip:alice@localhost"), Params: tagParams()})
	req.SetDestination(n.sip)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res, err := alice.client.Do(ctx, req)
	if err == nil && res.StatusCode == 407 {
		res, err = alice.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "alice", Password: "pw-alice"})
	}
	if err == nil {
		t.Fatalf("a client's maddr to an unnamed IP was answered %d", res.StatusCode)
	}
	if m := n.metrics(t); !strings.Contains(m, `parley_sip_dropped_total{reason="ip_destination_not_allowed"} 1`) {
		t.Fatal("drop not counted")
	}
	_ = trap2.pc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 65535)
	if k, _, err := trap2.pc.ReadFrom(buf); err == nil {
		t.Fatalf("the unnamed IP got:\n%s", buf[:k])
	}
}
