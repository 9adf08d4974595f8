package node

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/config"
	"github.com/parley-rtc/parley/internal/testpki"
)

// rawUDP is an inside hop for edge tests: a bare UDP socket that sends
// what the test writes and returns the messages it gets, parsed.
type rawUDP struct {
	pc   net.PacketConn
	addr string
}

func newRawUDP(t *testing.T) *rawUDP {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return &rawUDP{pc: pc, addr: pc.LocalAddr().String()}
}

func (r *rawUDP) send(t *testing.T, to, msg string) {
	t.Helper()
	ua, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.pc.WriteTo([]byte(msg), ua); err != nil {
		t.Fatal(err)
	}
}

// await returns the first message for which match is true, skipping
// others, failing after wait.
func (r *rawUDP) await(t *testing.T, wait time.Duration, match func(sip.Message) bool) sip.Message {
	t.Helper()
	deadline := time.Now().Add(wait)
	buf := make([]byte, 65535)
	for i := 0; i < 50; i++ {
		_ = r.pc.SetReadDeadline(deadline)
		n, _, err := r.pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("%s got nothing matching: %v", r.addr, err)
		}
		m, err := sip.ParseMessage(append([]byte(nil), buf[:n]...))
		if err == nil && match(m) {
			return m
		}
	}
	t.Fatalf("%s: no matching message among 50", r.addr)
	return nil
}

func isFinal(code int) func(sip.Message) bool {
	return func(m sip.Message) bool { res, ok := m.(*sip.Response); return ok && res.StatusCode == code }
}

// TestNodeEdgeHidingStateless: with topology hiding, a 2xx the partner
// retransmits is relayed with the inside's Vias and Record-Route entries
// back, both while the edge's INVITE client transaction is in its
// Accepted state and when no transaction knows it (a branch none has,
// standing in for the transaction's end after Timer M); and a re-INVITE
// from inside with a new Contact keeps the dialog's hidden route set, so
// the partner's BYE to that Contact passes the inside proxy.
func TestNodeEdgeHidingStateless(t *testing.T) {
	ca := newPKI(t)
	edgeInt, edgeExt := freePort(t), freePort(t)
	edgeCert, edgeKey := testpki.WritePair(t, ca.server(t, "edge.parley.test"))
	// proxy is the inside proxy (it record-routes), ua the inside user agent.
	proxy, ua := newRawUDP(t), newRawUDP(t)
	edge := startNodeWith(t, func(c *config.Config) {
		c.Role, c.TopologyHiding = config.RoleEdge, true
		c.SIPListen = append(c.SIPListen, fmt.Sprintf("udp://127.0.0.1:%d?trust=trusted", edgeInt),
			fmt.Sprintf("tls://127.0.0.1:%d?trust=server", edgeExt))
		c.TLSCert, c.TLSKey, c.TLSCA, c.TrustedPeers = edgeCert, edgeKey, ca.caFile, []string{"member.parley.test"}
		c.EdgeInward = []string{"sip:" + proxy.addr}
	})
	kam := newPeer(t, "kam", 200, ca.tlsFor(ca.server(t, "sip.kam.example")))
	edge.adminCall(t, "POST", "/v1/partners", map[string]any{"domain": "kam.example", "identity": "sip.kam.example",
		"next_hop": "sip:" + kam.addr + ";transport=tls"}, 201)
	inner := fmt.Sprintf("127.0.0.1:%d", edgeInt)
	const cid = "late-2xx@inside"
	proxy.send(t, inner, "INVITE sip:bob@kam.example SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP "+proxy.addr+";branch=z9hG4bK-inside-1\r\n"+
		"Via: SIP/2.0/UDP "+ua.addr+";branch=z9hG4bK-ua-1\r\n"+
		"Record-Route: <sip:"+proxy.addr+";lr>\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:alice@localhost>;tag=a1\r\nTo: <sip:bob@kam.example>\r\n"+
		"Call-ID: "+cid+"\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@"+ua.addr+">\r\nContent-Length: 0\r\n\r\n")
	first := proxy.await(t, 5*time.Second, isFinal(200)).(*sip.Response)
	got := kam.next(t, 2*time.Second)
	if strings.Contains(got.String(), proxy.addr) || strings.Contains(got.String(), ua.addr) {
		t.Fatalf("the partner sees the inside:\n%s", got)
	}
	wantVias := fmt.Sprint(headerVals(first.GetHeaders("Via")))
	wantRR := fmt.Sprint(headerVals(first.GetHeaders("Record-Route")))
	if !strings.Contains(wantRR, proxy.addr) {
		t.Fatalf("the 200 lost the inside's Record-Route: %s", wantRR)
	}

	retransmit := func(branch string) {
		res := sip.NewResponseFromRequest(got, 200, "OK", nil)
		if branch != "" {
			res.Via().Params.Add("branch", branch)
		}
		for _, h := range got.GetHeaders("Record-Route") {
			res.AppendHeader(sip.HeaderClone(h))
		}
		res.AppendHeader(sip.NewHeader("Contact", "<sip:kam@"+kam.addr+";transport=tls>"))
		if err := kam.ua.TransportLayer().WriteMsg(res); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, branch string }{
		{"transaction accepted", ""},
		{"no transaction", "z9hG4bK-ended-long-ago"},
	} {
		t.Log(tc.name)
		retransmit(tc.branch)
		again := proxy.await(t, 5*time.Second, isFinal(200)).(*sip.Response)
		if v := fmt.Sprint(headerVals(again.GetHeaders("Via"))); v != wantVias {
			t.Fatalf("%s: retransmitted 200 with Vias %s, want %s", tc.name, v, wantVias)
		}
		if rr := fmt.Sprint(headerVals(again.GetHeaders("Record-Route"))); rr != wantRR {
			t.Fatalf("%s: retransmitted 200 with Record-Route %s, want %s", tc.name, rr, wantRR)
		}
	}

	// A re-INVITE from the inside UA with a new Contact, along the route
	// set of the 200 (reversed): our entries, then Kamailio.
	rrs := first.GetHeaders("Record-Route")
	var route strings.Builder
	for i := len(rrs) - 1; i >= 0; i-- {
		if v := rrs[i].Value(); !strings.Contains(v, proxy.addr) {
			route.WriteString("Route: " + v + "\r\n")
		}
	}
	moved := newRawUDP(t)
	proxy.send(t, inner, "INVITE sip:kam@"+kam.addr+";transport=tls SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP "+proxy.addr+";branch=z9hG4bK-inside-2\r\n"+route.String()+
		"Max-Forwards: 70\r\nFrom: <sip:alice@localhost>;tag=a1\r\nTo: <sip:bob@kam.example>;tag=kamtag\r\n"+
		"Call-ID: "+cid+"\r\nCSeq: 2 INVITE\r\nContact: <sip:alice@"+moved.addr+">\r\nContent-Length: 0\r\n\r\n")
	proxy.await(t, 5*time.Second, isFinal(200))
	re := kam.next(t, 2*time.Second)
	ct := re.Contact()
	if ct == nil || !strings.HasPrefix(ct.Address.User, "th-") || strings.Contains(re.String(), moved.addr) {
		t.Fatalf("re-INVITE at the partner:\n%s", re)
	}
	// Kamailio's BYE to the new Contact, through the edge's Record-Route.
	bye := sip.NewRequest(sip.BYE, ct.Address)
	bye.AppendHeader(&sip.RouteHeader{Address: sipURI(t, strings.Trim(got.GetHeaders("Record-Route")[0].Value(), "<>"))})
	bye.AppendHeader(&sip.FromHeader{Address: sipURI(t, "sip:bob@kam.example"), Params: sip.HeaderParams{{K: "tag", V: "kamtag"}}})
	bye.AppendHeader(&sip.ToHeader{Address: sipURI(t, "sip:alice@localhost"), Params: sip.HeaderParams{{K: "tag", V: "a1"}}})
	callID := sip.CallIDHeader(cid)
	bye.AppendHeader(&callID)
	bye.SetDestination(fmt.Sprintf("127.0.0.1:%d", edgeExt))
	if err := kam.client.WriteRequest(bye); err != nil {
		t.Fatal(err)
	}
	// It passes the inside proxy (the hidden route set), addressed to the new Contact.
	m := proxy.await(t, 5*time.Second, func(m sip.Message) bool { r, ok := m.(*sip.Request); return ok && r.Method == sip.BYE })
	if r := m.(*sip.Request); r.Recipient.Host+":"+fmt.Sprint(r.Recipient.Port) != moved.addr {
		t.Fatalf("BYE for %s, want the new Contact %s", r.Recipient.String(), moved.addr)
	}
}

func headerVals(hs []sip.Header) []string {
	out := make([]string, 0, len(hs))
	for _, h := range hs {
		out = append(out, h.Value())
	}
	return out
}
