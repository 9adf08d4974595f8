package node

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/config"
	"github.com/parley-rtc/parley/core/pipeline"
	"github.com/parley-rtc/parley/internal/testpki"
)

// placement is a user agent that registers as user at node n
// (password "pw-"+user).
type placement struct {
	u    *ua
	n    *testNode
	user string
}

// registerAll registers each placement in order and waits until every
// node sees its binding homed there.
func registerAll(t *testing.T, ns []*testNode, ps ...placement) {
	t.Helper()
	for _, r := range ps {
		if res := r.u.register(t, r.n, r.user, "pw-"+r.user); res.StatusCode != 200 {
			t.Fatalf("register %s on %s: %d", r.user, r.n.cfg.NodeID, res.StatusCode)
		}
		waitHome(t, ns, r.user, r.u.port, r.n.cfg.NodeID)
	}
}

// waitHome waits until every running node sees user's binding whose
// contact is on port homed on home.
func waitHome(t *testing.T, ns []*testNode, user string, port int, home string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, n := range ns {
		if n.cancel == nil {
			continue // stopped
		}
		for {
			got := ""
			for _, b := range raftOf(t, n).State().Bindings(user + "@localhost") {
				if strings.Contains(b.Contact, fmt.Sprintf(":%d", port)) {
					got = b.Home
				}
			}
			if got == home {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s sees %s's binding homed on %q, want %q", n.cfg.NodeID, user, got, home)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func expectMessage(t *testing.T, u *ua, via string) {
	t.Helper()
	select {
	case req := <-u.got:
		if v := req.Via(); v == nil || fmt.Sprintf("%s:%d", v.Host, v.Port) != via {
			t.Errorf("MESSAGE delivered by %v, want the home node %s", req.Via(), via)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("MESSAGE not delivered")
	}
}

// bobOnN3 creates alice (password wonder) and bob (builder) and registers
// bob on ns[2], the n3 of every cluster test, waiting until all nodes see
// his binding homed there.
func bobOnN3(t *testing.T, ns []*testNode) (alice, bob *ua) {
	t.Helper()
	addClusterUser(t, ns, "alice", "wonder")
	addClusterUser(t, ns, "bob", "builder")
	alice, bob = newUA(t, "alice"), newUA(t, "bob")
	if res := bob.register(t, ns[2], "bob", "builder"); res.StatusCode != 200 {
		t.Fatalf("bob on n3: %d", res.StatusCode)
	}
	waitHome(t, ns, "bob", bob.port, "n3")
	return alice, bob
}

// TestClusterHomeRouting: bob registers on n3; alice's MESSAGE sent to n2
// reaches bob through n3, his binding's home node, which sends it down
// his flow. A client forging the home marker gets 403, and so do a
// non-member and a bad token on the cluster link.
func TestClusterHomeRouting(t *testing.T) {
	ns := startCluster(t, "home", "home", "home")
	alice, bob := bobOnN3(t, ns)
	if res := alice.message(t, ns[1], "alice", "bob", "wonder"); res.StatusCode != 200 {
		t.Fatalf("alice -> bob through n2: %d %s", res.StatusCode, res.Reason)
	}
	expectMessage(t, bob, ns[2].sip)

	// A client naming a binding directly: refused before authentication.
	req := sip.NewRequest(sip.MESSAGE, sip.Uri{Scheme: "sip", User: "bob", Host: "localhost"})
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "localhost"}, Params: tagParams()})
	req.AppendHeader(sip.NewHeader("Route", "<sip:"+ns[2].cfg.ClusterSIP+";transport=tcp;lr;ph=Ym9iQGxvY2FsaG9zdABzaXA6Ym9i;pt=00>"))
	if res := alice.do(t, ns[1], req, "alice", "wonder"); res.StatusCode != 403 {
		t.Errorf("client with a home Route: %d, want 403", res.StatusCode)
	}
	// On the link itself: a non-member address, then a member with a bad token.
	for _, tc := range []struct{ local, extra, want string }{
		{"127.0.0.2", "", "SIP/2.0 403"},
		{"127.0.0.1", "Route: <sip:" + ns[2].cfg.ClusterSIP + ";transport=tcp;lr;ph=Ym9iQGxvY2FsaG9zdABzaXA6Ym9i;pt=0011>\n", "SIP/2.0 403"},
	} {
		got := rawSIP(t, tc.local, ns[2].cfg.ClusterSIP, linkRequest(tc.local, 5999, tc.extra))
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("link request from %s (%q): %q, want %s", tc.local, tc.extra, got, tc.want)
		}
	}
}

// TestClusterNodeLoss: carol has endpoints on n1 and n3, bob only on n3.
// When n3 stops, a MESSAGE to bob gets 480 while carol's reaches her
// endpoint on n1 at once; bob re-registers on n2, which rehomes his binding, and
// is reachable again.
func TestClusterNodeLoss(t *testing.T) {
	ns := startCluster(t, "home", "home", "home")
	for _, u := range []string{"alice", "bob", "carol"} {
		addClusterUser(t, ns, u, "pw-"+u)
	}
	alice, bob, carolA, carolB := newUA(t, "alice"), newUA(t, "bob"), newUA(t, "carolA"), newUA(t, "carolB")
	registerAll(t, ns, placement{carolB, ns[0], "carol"}, placement{carolA, ns[2], "carol"}, placement{bob, ns[2], "bob"})
	// The most recent registration wins: carol's endpoint on n3.
	if res := alice.message(t, ns[1], "alice", "carol", "pw-alice"); res.StatusCode != 200 {
		t.Fatalf("to carol: %d", res.StatusCode)
	}
	expectMessage(t, carolA, ns[2].sip)

	ns[2].stop(t)
	if res := alice.message(t, ns[1], "alice", "bob", "pw-alice"); res.StatusCode != 480 {
		t.Errorf("bob homed on a stopped node: %d, want 480", res.StatusCode)
	}
	// carol: n2 may not have noticed yet, but when n3's link refuses, the
	// same request goes on to her other endpoint.
	if res := alice.message(t, ns[1], "alice", "carol", "pw-alice"); res.StatusCode != 200 {
		t.Fatalf("to carol with n3 down: %d, want her endpoint on n1", res.StatusCode)
	}
	expectMessage(t, carolB, ns[0].sip)
	if res := bob.register(t, ns[1], "bob", "pw-bob"); res.StatusCode != 200 {
		t.Fatalf("bob re-registers on n2: %d", res.StatusCode)
	}
	waitHome(t, ns, "bob", bob.port, "n2")
	if res := alice.message(t, ns[0], "alice", "bob", "pw-alice"); res.StatusCode != 200 {
		t.Fatalf("alice -> bob through n1 after rehoming: %d", res.StatusCode)
	}
	expectMessage(t, bob, ns[1].sip)
}

// TestClusterDirector: n3 is a director. Its answer to an authenticated
// REGISTER is 302 to the home node the assignment rule (or the user's
// override) picks, with maddr; it never stores a binding. Other requests
// it proxies to the binding's home node.
func TestClusterDirector(t *testing.T) {
	ns := startCluster(t, state.RoleHome, state.RoleHome, state.RoleDirector)
	addClusterUser(t, ns, "alice", "wonder")
	addClusterUser(t, ns, "bob", "builder")
	alice, bob := newUA(t, "alice"), newUA(t, "bob")
	bySIP := map[string]*testNode{}
	for _, n := range ns[:2] {
		bySIP[n.sip] = n
	}
	members := raftOf(t, ns[2]).State().Members()
	want, ok := pipeline.AssignHome("alice@localhost", "", members, nil)
	if !ok {
		t.Fatal("no home member")
	}
	other := "n1"
	if want.ID == "n1" {
		other = "n2"
	}
	redirectTo := func() *testNode {
		t.Helper()
		res := alice.register(t, ns[2], "alice", "wonder")
		c := res.Contact()
		if res.StatusCode != 302 || c == nil {
			t.Fatalf("REGISTER at the director: %d, want 302 with Contact", res.StatusCode)
		}
		maddr, _ := c.Address.UriParams.Get("maddr")
		n := bySIP[fmt.Sprintf("%s:%d", maddr, c.Address.Port)]
		if n == nil || c.Address.Host != "localhost" {
			t.Fatalf("302 Contact %s names no home node", c.Address.String())
		}
		return n
	}
	if n := redirectTo(); n.cfg.NodeID != want.ID {
		t.Errorf("redirected to %s, the rule picks %s", n.cfg.NodeID, want.ID)
	}
	leaderOf(t, ns).adminCall(t, "PUT", "/v1/users/alice/home", map[string]string{"home": other}, 200)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if u, _ := raftOf(t, ns[2]).State().User("alice@localhost"); u.Home == other {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the director sees alice's home %q", u.Home)
		}
	}
	home := redirectTo()
	if home.cfg.NodeID != other {
		t.Errorf("with home=%s redirected to %s", other, home.cfg.NodeID)
	}
	if n := raftOf(t, ns[0]).State().BindingCount(); n != 0 {
		t.Fatalf("the director stored %d bindings", n)
	}
	if res := alice.register(t, home, "alice", "wonder"); res.StatusCode != 200 {
		t.Fatalf("REGISTER at the home node: %d", res.StatusCode)
	}
	waitHome(t, ns, "alice", alice.port, home.cfg.NodeID)
	if res := bob.message(t, ns[2], "bob", "alice", "builder"); res.StatusCode != 200 {
		t.Fatalf("bob -> alice through the director: %d", res.StatusCode)
	}
	expectMessage(t, alice, home.sip)
}

// TestClusterMTLSLink: with cluster-ca, cluster-cert and cluster-key the
// link is mutual TLS: routing through it works, its address is a sips:
// URI, and a peer with a certificate from another CA, or none, gets no
// SIP answer.
func TestClusterMTLSLink(t *testing.T) {
	ca, foreign := testpki.NewCA(t, "cluster CA"), testpki.NewCA(t, "foreign CA")
	caFile := ca.WriteCA(t)
	ns := startClusterWith(t, func(i int, c *config.Config) {
		c.ClusterCA = caFile
		c.ClusterCert, c.ClusterKey = testpki.WritePair(t, ca.Issue(t, c.NodeID, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth))
	}, "home", "home", "home")
	if m, _ := raftOf(t, ns[0]).State().Member("n3"); !strings.HasPrefix(m.SIPAddr, "sips:") {
		t.Fatalf("n3's link %q, want a sips: URI", m.SIPAddr)
	}
	alice, bob := bobOnN3(t, ns)
	if res := alice.message(t, ns[0], "alice", "bob", "wonder"); res.StatusCode != 200 {
		t.Fatalf("alice -> bob over the TLS link: %d", res.StatusCode)
	}
	expectMessage(t, bob, ns[2].sip)

	for name, certs := range map[string][]tls.Certificate{
		"foreign CA": {foreign.Issue(t, "n9", x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)},
		"no cert":    nil,
	} {
		c, err := tls.Dial("tcp", ns[2].cfg.ClusterSIP, &tls.Config{Certificates: certs, InsecureSkipVerify: true})
		if err != nil {
			continue // refused during the handshake
		}
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		_, _ = c.Write([]byte(strings.ReplaceAll(linkRequest("127.0.0.1", 5999, ""), "\n", "\r\n")))
		if n, err := c.Read(make([]byte, 512)); err == nil {
			t.Errorf("%s: the link answered (%d bytes)", name, n)
		}
		c.Close()
	}
}

// TestClusterDialogThroughLink: alice calls bob (homed on n3) through n2.
// The 200 carries both nodes' Record-Routes, and the ACK and BYE alice
// sends along that route set reach bob through n2 and n3.
func TestClusterDialogThroughLink(t *testing.T) {
	ns := startCluster(t, "home", "home", "home")
	alice, bob := bobOnN3(t, ns)
	bob.answer.Store(true)
	inv := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "bob", Host: "localhost"})
	inv.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "localhost"}, Params: tagParams()})
	inv.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: alice.port}})
	res := alice.do(t, ns[1], inv, "alice", "wonder")
	if res.StatusCode != 200 {
		t.Fatalf("INVITE through n2: %d", res.StatusCode)
	}
	var rr []string
	for _, h := range res.GetHeaders("Record-Route") {
		rr = append(rr, h.Value())
	}
	if len(rr) != 4 || !strings.Contains(rr[0], ns[2].sip) || !strings.Contains(rr[3], ns[1].sip) {
		t.Fatalf("Record-Route %q: want n3's two entries, then n2's", rr)
	}
	dialog := func(method sip.RequestMethod, seq uint32) *sip.Request {
		req := sip.NewRequest(method, res.Contact().Address)
		for i := len(rr) - 1; i >= 0; i-- { // the UAC's route set is the reversed Record-Route
			req.AppendHeader(sip.NewHeader("Route", rr[i]))
		}
		req.AppendHeader(sip.HeaderClone(inv.From()))
		req.AppendHeader(sip.HeaderClone(res.To()))
		req.AppendHeader(sip.HeaderClone(inv.CallID()))
		req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
		req.SetDestination(ns[1].sip)
		return req
	}
	if err := alice.client.WriteRequest(dialog(sip.ACK, inv.CSeq().SeqNo)); err != nil {
		t.Fatal(err)
	}
	if r := alice.do(t, ns[1], dialog(sip.BYE, inv.CSeq().SeqNo+1), "alice", "wonder"); r.StatusCode != 200 {
		t.Fatalf("BYE along the route set: %d", r.StatusCode)
	}
	got := map[sip.RequestMethod]bool{} // ACK and BYE may arrive in either order
	for range 2 {
		select {
		case req := <-bob.inDialog:
			if req.Via() == nil || fmt.Sprintf("%s:%d", req.Via().Host, req.Via().Port) != ns[2].sip {
				t.Fatalf("bob got %s from %v, want it from n3", req.Method, req.Via())
			}
			got[req.Method] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("bob got only %v, want ACK and BYE", got)
		}
	}
	if !got[sip.ACK] || !got[sip.BYE] {
		t.Fatalf("bob got %v, want ACK and BYE", got)
	}
}

// TestClusterMinority: with n1 and n2 stopped, n3 is a minority of one.
// A new registration cannot commit there: 503 with Retry-After. What n3
// can reach it still routes: alice's MESSAGE to bob, homed on n3.
func TestClusterMinority(t *testing.T) {
	ns := startCluster(t, "home", "home", "home")
	alice, bob := bobOnN3(t, ns)
	ns[0].stop(t)
	ns[1].stop(t)
	res := alice.register(t, ns[2], "alice", "wonder")
	if res.StatusCode != 503 || res.GetHeader("Retry-After") == nil {
		t.Fatalf("REGISTER on a minority node: %d (Retry-After %v), want 503 with Retry-After", res.StatusCode, res.GetHeader("Retry-After"))
	}
	if res := alice.message(t, ns[2], "alice", "bob", "wonder"); res.StatusCode != 200 {
		t.Fatalf("MESSAGE to bob on the minority node: %d", res.StatusCode)
	}
	expectMessage(t, bob, ns[2].sip)
}
