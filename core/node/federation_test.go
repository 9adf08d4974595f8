package node

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/config"
	"github.com/parley-rtc/parley/core/resolve/resolvetest"
	"github.com/parley-rtc/parley/internal/testpki"
)

// messageTo builds a MESSAGE from alice@localhost to ruri.
func messageTo(t *testing.T, ruri string) *sip.Request {
	req := sip.NewRequest(sip.MESSAGE, sipURI(t, ruri))
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "localhost"}, Params: tagParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
	req.SetBody([]byte("hello partner"))
	return req
}

// TestNodePartnerDNSFailover: a request for a partner domain follows
// NAPTR and SRV; the first target answers 503 and the second never
// answers, so the third gets it. A domain that is not a partner gets 403.
func TestNodePartnerDNSFailover(t *testing.T) {
	// sipgo's timers are process-wide and set by Run: start the node
	// before any other user agent.
	dns := resolvetest.Start(t)
	n := startNodeWith(t, func(c *config.Config) { c.DNSServer, c.SIPTimeout = dns.Addr, 4*time.Second })
	busy := newPeer(t, "busy", 503, nil)
	good := newPeer(t, "good", 200, nil)
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	port := func(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }
	dns.Add(t,
		`fed.example. 60 IN NAPTR 10 10 "s" "SIP+D2U" "" _sip._udp.fed.example.`,
		`_sip._udp.fed.example. 60 IN SRV 10 0 `+port(busy.addr)+` a.fed.example.`,
		`_sip._udp.fed.example. 60 IN SRV 20 0 `+port(silent.LocalAddr().String())+` a.fed.example.`,
		`_sip._udp.fed.example. 60 IN SRV 30 0 `+port(good.addr)+` a.fed.example.`,
		`a.fed.example. 60 IN A 127.0.0.1`,
		`tlsonly.example. 60 IN NAPTR 10 10 "s" "SIPS+D2T" "" _sips._tcp.tlsonly.example.`,
		`_sips._tcp.tlsonly.example. 60 IN SRV 10 0 5061 a.fed.example.`,
	)
	n.addUser(t, "alice", "pw-alice")
	alice := newUA(t, "alice")

	if res := alice.do(t, n, messageTo(t, "sip:bob@fed.example"), "alice", "pw-alice"); res.StatusCode != 403 {
		t.Fatalf("before the partner is allowed: %d, want 403", res.StatusCode)
	}
	n.adminCall(t, "POST", "/v1/partners", map[string]any{"domain": "fed.example"}, 201)
	if res := alice.do(t, n, messageTo(t, "sip:bob@fed.example"), "alice", "pw-alice"); res.StatusCode != 200 {
		t.Fatalf("to the partner: %d, want 200 from the third target", res.StatusCode)
	}
	busy.next(t, time.Second)
	if r := good.next(t, time.Second); r.Recipient.Host != "fed.example" {
		t.Fatalf("Request-URI changed to %s", r.Recipient.String())
	}
	buf := make([]byte, 4096)
	_ = silent.SetReadDeadline(time.Now().Add(time.Second))
	if _, _, err := silent.ReadFrom(buf); err != nil {
		t.Fatal("the silent target was never tried")
	}
	if q := dns.Queries(); !slices.Contains(q, "NAPTR fed.example.") || !slices.Contains(q, "SRV _sip._udp.fed.example.") {
		t.Fatalf("queries %v", q)
	}
	if !strings.Contains(n.metrics(t), `parley_sip_forwarded_total{method="MESSAGE",outcome="failover"} 2`) {
		t.Fatal("failovers not counted")
	}
	// A partner reachable only over TLS, and this node has no TLS listener: 503.
	n.adminCall(t, "POST", "/v1/partners", map[string]any{"domain": "tlsonly.example"}, 201)
	if res := alice.do(t, n, messageTo(t, "sip:bob@tlsonly.example"), "alice", "pw-alice"); res.StatusCode != 503 {
		t.Fatalf("partner over TLS only: %d, want 503", res.StatusCode)
	}
	// A partner whose name does not resolve: 404.
	n.adminCall(t, "POST", "/v1/partners", map[string]any{"domain": "gone.example"}, 201)
	if res := alice.do(t, n, messageTo(t, "sip:bob@gone.example"), "alice", "pw-alice"); res.StatusCode != 404 {
		t.Fatalf("unresolvable partner: %d, want 404", res.StatusCode)
	}
}

// pki is a CA with certificates for the federation tests, as files.
type pki struct {
	ca     *testpki.CA
	caFile string
}

func newPKI(t *testing.T) *pki {
	ca := testpki.NewCA(t, "parley test CA")
	return &pki{ca: ca, caFile: ca.WriteCA(t)}
}

// server issues a serverAuth+clientAuth certificate for name.
func (p *pki) server(t *testing.T, name string) tls.Certificate {
	return p.ca.Issue(t, name, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
}

// tlsFor is a peer's TLS configuration: its certificate, our CA.
func (p *pki) tlsFor(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: p.ca.Pool, ClientCAs: p.ca.Pool,
		ClientAuth: tls.RequireAndVerifyClientCert, ServerName: "127.0.0.1"}
}

// TestNodePartnerAdmission: on a mutual TLS listener a partner is known
// by its certificate name, may speak only for its own domain, and is
// accepted from the moment it is added. A server whose certificate is
// from our CA but names neither a member nor an allowed partner gets 403
// (the handshake checks only the chain and serverAuth).
func TestNodePartnerAdmission(t *testing.T) {
	ca := newPKI(t)
	certFile, keyFile := testpki.WritePair(t, ca.server(t, "parley.test"))
	port := freePort(t)
	n := startNodeWith(t, func(c *config.Config) {
		c.SIPListen = append(c.SIPListen, fmt.Sprintf("tls://127.0.0.1:%d?trust=server", port))
		c.TLSCert, c.TLSKey, c.TLSCA, c.TrustedPeers = certFile, keyFile, ca.caFile, []string{"member.test"}
	})
	n.addUser(t, "alice", "pw-alice")
	alice := newUA(t, "alice")
	alice.register(t, n, "alice", "pw-alice")
	dest := fmt.Sprintf("127.0.0.1:%d", port)
	send := func(certName, fromDomain string) *sip.Response {
		p := newPeer(t, certName, 200, ca.tlsFor(ca.server(t, certName)))
		req := sip.NewRequest(sip.MESSAGE, sipURI(t, "sip:alice@localhost;transport=tls"))
		req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: fromDomain}, Params: tagParams()})
		req.SetBody([]byte("from " + certName))
		return p.send(req, dest, 3*time.Second)
	}
	cases := []struct {
		name, cert, from string
		addPartner       bool
		want             int
	}{
		{"not yet a partner", "sip.kam.example", "kam.example", false, 403},
		{"partner", "sip.kam.example", "kam.example", true, 200},
		{"partner speaking for another domain", "sip.kam.example", "other.example", false, 403},
		{"cluster member", "member.test", "localhost", false, 200},
		{"stranger", "rogue.example", "kam.example", false, 403},
	}
	for _, tc := range cases {
		if tc.addPartner {
			n.adminCall(t, "POST", "/v1/partners", map[string]any{"domain": "kam.example", "identity": "sip.kam.example"}, 201)
		}
		res := send(tc.cert, tc.from)
		if res == nil || res.StatusCode != tc.want {
			t.Fatalf("%s: %v, want %d", tc.name, res, tc.want)
		}
	}
	m := n.metrics(t)
	for _, want := range []string{`parley_sip_dropped_total{reason="partner_wrong_domain"} 1`, `parley_sip_dropped_total{reason="peer_not_allowed"} 2`} {
		if !strings.Contains(m, want) {
			t.Fatalf("refusal not counted: no %s", want)
		}
	}
	// Removed while connected: 403 on the open connection and on new
	// connections.
	kept := newPeer(t, "kept", 200, ca.tlsFor(ca.server(t, "sip.kam.example")))
	keptSend := func() *sip.Response {
		req := sip.NewRequest(sip.MESSAGE, sipURI(t, "sip:alice@localhost;transport=tls"))
		req.AppendHeader(&sip.FromHeader{Address: sipURI(t, "sip:bob@kam.example"), Params: tagParams()})
		return kept.send(req, dest, 3*time.Second)
	}
	if res := keptSend(); res == nil || res.StatusCode != 200 {
		t.Fatalf("partner before removal: %v", res)
	}
	n.adminCall(t, "DELETE", "/v1/partners/kam.example", nil, 204)
	if res := keptSend(); res == nil || res.StatusCode != 403 {
		t.Fatalf("removed partner on its open connection: %v, want 403", res)
	}
	if res := send("sip.kam.example", "kam.example"); res == nil || res.StatusCode != 403 {
		t.Fatalf("removed partner on a new connection: %v, want 403", res)
	}
}
