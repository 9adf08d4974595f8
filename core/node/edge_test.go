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
	"github.com/parley-rtc/parley/internal/testpki"
)

// register registers the peer as user at node n with digest.
func (p *peer) register(t *testing.T, n *testNode, user, pw string) {
	t.Helper()
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "localhost"})
	aor := sip.Uri{Scheme: "sip", User: user, Host: "localhost"}
	req.AppendHeader(&sip.FromHeader{Address: aor, Params: tagParams()})
	req.AppendHeader(&sip.ToHeader{Address: aor})
	req.AppendHeader(&sip.ContactHeader{Address: sipURI(t, "sip:"+user+"@"+p.addr)})
	req.AppendHeader(sip.NewHeader("Expires", "300"))
	if res := p.digest(t, req, n.sip, user, pw); res.StatusCode != 200 {
		t.Fatalf("register %s: %d", user, res.StatusCode)
	}
}

// digest sends req to dest answering one challenge.
func (p *peer) digest(t *testing.T, req *sip.Request, dest, user, pw string) *sip.Response {
	t.Helper()
	req.SetDestination(dest)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.client.Do(ctx, req)
	if err == nil && (res.StatusCode == 401 || res.StatusCode == 407) {
		res, err = p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: pw})
	}
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestNodeEdge: a partner reaches a user through an edge that fails over
// to its second inward hop; the user calls the partner through the edge,
// which hides the cluster (one Via, one Record-Route, a masked Contact)
// and restores it on the way back, so the partner's BYE finds the user
// through the hidden route set. An edge refuses REGISTER.
func TestNodeEdge(t *testing.T) {
	ca := newPKI(t)
	homeTrusted, edgeInt, edgeExt, dead := freePort(t), freePort(t), freePort(t), freePort(t)
	home := startNodeWith(t, func(c *config.Config) {
		c.SIPListen = append(c.SIPListen, fmt.Sprintf("udp://127.0.0.1:%d?trust=trusted", homeTrusted))
	})
	edgeCert, edgeKey := testpki.WritePair(t, ca.server(t, "edge.parley.test"))
	edge := startNodeWith(t, func(c *config.Config) {
		c.Role, c.TopologyHiding = config.RoleEdge, true
		c.SIPListen = append(c.SIPListen, fmt.Sprintf("udp://127.0.0.1:%d?trust=trusted", edgeInt),
			fmt.Sprintf("tls://127.0.0.1:%d?trust=server", edgeExt))
		c.TLSCert, c.TLSKey, c.TLSCA, c.TrustedPeers = edgeCert, edgeKey, ca.caFile, []string{"member.parley.test"}
		c.EdgeInward = []string{fmt.Sprintf("sip:127.0.0.1:%d;transport=tcp", dead), fmt.Sprintf("sip:127.0.0.1:%d", homeTrusted)}
	})
	kam := newPeer(t, "kam", 200, ca.tlsFor(ca.server(t, "sip.kam.example")))
	alice := newPeer(t, "alice", 200, nil)
	home.addUser(t, "alice", "pw-alice")
	alice.register(t, home, "alice", "pw-alice")
	home.adminCall(t, "POST", "/v1/partners", map[string]any{"domain": "kam.example", "next_hop": fmt.Sprintf("sip:127.0.0.1:%d", edgeInt)}, 201)
	edge.adminCall(t, "POST", "/v1/partners", map[string]any{"domain": "kam.example", "identity": "sip.kam.example",
		"next_hop": "sip:" + kam.addr + ";transport=tls"}, 201)
	edgeTLS := fmt.Sprintf("127.0.0.1:%d", edgeExt)

	// Partner to user: the first inward hop refuses, the second is home.
	msg := sip.NewRequest(sip.MESSAGE, sipURI(t, "sip:alice@localhost;transport=tls"))
	msg.AppendHeader(&sip.FromHeader{Address: sipURI(t, "sip:bob@kam.example"), Params: tagParams()})
	msg.SetBody([]byte("hello from kam"))
	if res := kam.send(msg, edgeTLS, 5*time.Second); res == nil || res.StatusCode != 200 {
		t.Fatalf("partner to user: %v", res)
	}
	if got := alice.next(t, 2*time.Second); string(got.Body()) != "hello from kam" {
		t.Fatalf("alice got %q", got.Body())
	}

	// An edge holds no registrations.
	reg := sip.NewRequest(sip.REGISTER, sipURI(t, "sip:localhost"))
	reg.AppendHeader(&sip.FromHeader{Address: sipURI(t, "sip:alice@localhost"), Params: tagParams()})
	reg.AppendHeader(&sip.ToHeader{Address: sipURI(t, "sip:alice@localhost")})
	if res := alice.send(reg, edge.sip, 3*time.Second); res == nil || res.StatusCode != 403 {
		t.Fatalf("REGISTER at the edge: %v", res)
	}

	// User to partner, with topology hiding.
	inv := sip.NewRequest(sip.INVITE, sipURI(t, "sip:bob@kam.example"))
	inv.AppendHeader(&sip.FromHeader{Address: sipURI(t, "sip:alice@localhost"), Params: tagParams()})
	inv.AppendHeader(&sip.ToHeader{Address: sipURI(t, "sip:bob@kam.example")})
	inv.AppendHeader(&sip.ContactHeader{Address: sipURI(t, "sip:alice@"+alice.addr)})
	ok := alice.digest(t, inv, home.sip, "alice", "pw-alice")
	if ok.StatusCode != 200 {
		t.Fatalf("call to the partner: %d", ok.StatusCode)
	}
	got := kam.next(t, 2*time.Second)
	ext := fmt.Sprint(edgeExt)
	if vias := got.GetHeaders("Via"); len(vias) != 1 || !strings.Contains(vias[0].Value(), ":"+ext) {
		t.Fatalf("partner sees Vias %v", vias)
	}
	rrs := got.GetHeaders("Record-Route")
	if len(rrs) != 1 || !strings.Contains(rrs[0].Value(), ":"+ext) {
		t.Fatalf("partner sees Record-Route %v", rrs)
	}
	ct := got.Contact()
	if ct == nil || !strings.HasPrefix(ct.Address.User, "th-") || ct.Address.Port != edgeExt || strings.Contains(ct.Value(), alice.addr) {
		t.Fatalf("partner sees Contact %v", ct)
	}
	// The caller sees the whole route set again, home's entries included.
	if rr := ok.GetHeaders("Record-Route"); len(rr) < 3 || !strings.Contains(fmt.Sprint(rr), home.sip[strings.LastIndexByte(home.sip, ':'):]) {
		t.Fatalf("caller sees Record-Route %v", rr)
	}

	// The partner hangs up: its BYE reaches alice through the hidden routes.
	bye := sip.NewRequest(sip.BYE, ct.Address)
	bye.AppendHeader(&sip.RouteHeader{Address: sipURI(t, strings.Trim(rrs[0].Value(), "<>"))})
	bye.AppendHeader(&sip.FromHeader{Address: sipURI(t, "sip:bob@kam.example"), Params: sip.HeaderParams{{K: "tag", V: "kamtag"}}})
	to := got.From()
	bye.AppendHeader(&sip.ToHeader{Address: to.Address, Params: to.Params})
	bye.AppendHeader(sip.HeaderClone(got.CallID()))
	if res := kam.send(bye, edgeTLS, 5*time.Second); res == nil || res.StatusCode != 200 {
		t.Fatalf("BYE from the partner: %v", res)
	}
	// Three Vias: the partner's, the edge's and home's (not straight from the edge).
	if r := alice.next(t, 2*time.Second); r.Method != sip.BYE || r.Recipient.Host != "127.0.0.1" || len(r.GetHeaders("Via")) != 3 {
		t.Fatalf("alice got %s %s via %v", r.Method, r.Recipient.String(), r.GetHeaders("Via"))
	}
	// A forged mask is refused.
	forged := ct.Address
	forged.User = "th-e30.0000"
	bad := sip.NewRequest(sip.BYE, forged)
	bad.AppendHeader(&sip.RouteHeader{Address: sipURI(t, strings.Trim(rrs[0].Value(), "<>"))})
	bad.AppendHeader(&sip.FromHeader{Address: sipURI(t, "sip:bob@kam.example"), Params: sip.HeaderParams{{K: "tag", V: "kamtag"}}})
	bad.AppendHeader(&sip.ToHeader{Address: to.Address, Params: to.Params})
	bad.AppendHeader(sip.HeaderClone(got.CallID()))
	if res := kam.send(bad, edgeTLS, 5*time.Second); res == nil || res.StatusCode != 404 {
		t.Fatalf("forged mask: %v", res)
	}
}
