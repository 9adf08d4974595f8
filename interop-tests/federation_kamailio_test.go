//go:build interop

package interop

import (
	"crypto/tls"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-rtc/parley/core/resolve/resolvetest"
)

// Loopback addresses of the federation tests: Parley's home node and the
// inner side of the edge on 127.0.0.1, the edge's partner-facing TLS
// listener on 127.0.0.2, Kamailio (domain kam.example) on 127.0.0.3.
// 127.0.0.4 is an SRV target with nothing listening (failover).
const (
	edgeIP    = "127.0.0.2"
	kamIP     = "127.0.0.3"
	deadIP    = "127.0.0.4"
	kamDomain = "kam.example"
)

// federation is the topology: home <-> edge <-TLS-> Kamailio.
type federation struct {
	home, edge *parleyd
	kam        *kamailio
	edgeTLS    int
	dns        *resolvetest.Server
}

// startFederation starts a home parleyd with users, an edge parleyd
// (topology hiding on) that finds kam.example by NAPTR/SRV/A on a test DNS
// server (its first SRV target is dead), and Kamailio as the partner's
// registrar, every server link between edge and Kamailio mutual TLS with
// certificates from a CA made here.
func startFederation(t *testing.T) *federation {
	t.Helper()
	pki := newTestPKI(t)
	edgeCert, edgeKey := pki.issue(t, "edge.parley.test", edgeIP)
	kamCert, kamKey := pki.issue(t, kamDomain, kamIP)
	f := &federation{dns: resolvetest.Start(t)}
	homeTrusted, edgeInner := freePort(t), freePort(t)
	f.edgeTLS = freePort(t)
	kamTLS, kamUDP := freePort(t), freePort(t)
	f.dns.Add(t,
		`kam.example. 60 IN NAPTR 10 10 "s" "SIPS+D2T" "" _sips._tcp.kam.example.`,
		fmt.Sprintf(`_sips._tcp.kam.example. 60 IN SRV 5 0 %d dead.kam.example.`, kamTLS),
		fmt.Sprintf(`_sips._tcp.kam.example. 60 IN SRV 10 0 %d sip.kam.example.`, kamTLS),
		`dead.kam.example. 60 IN A `+deadIP,
		`sip.kam.example. 60 IN A `+kamIP,
	)
	f.home = startParleyd(t, "--sip-listen", fmt.Sprintf("udp://127.0.0.1:%d?trust=trusted", homeTrusted))
	f.edge = startParleyd(t, "--role", "edge", "--topology-hiding",
		"--edge-inward", fmt.Sprintf("sip:127.0.0.1:%d", homeTrusted),
		"--sip-listen", fmt.Sprintf("udp://127.0.0.1:%d?trust=trusted,tls://%s:%d?trust=server", edgeInner, edgeIP, f.edgeTLS),
		"--tls-cert", edgeCert, "--tls-key", edgeKey, "--tls-ca", pki.caFile,
		"--trusted-peers", "member.parley.test", "--dns-server", f.dns.Addr)
	for _, u := range []string{"alice", "bob"} {
		f.home.addUser(u, "secret")
	}
	if _, err := f.home.ctl("partner", "add", kamDomain, "--next-hop", fmt.Sprintf("sip:127.0.0.1:%d", edgeInner)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.edge.ctl("partner", "add", kamDomain, "--identity", kamDomain); err != nil {
		t.Fatal(err)
	}
	f.kam = startKamailio(t, "federation.cfg", kamIP, kamTLS, kamUDP,
		`KAMDOMAIN="`+kamDomain+`"`, `PARLEYDOMAIN="`+domain+`"`,
		fmt.Sprintf(`EDGE="sip:%s:%d;transport=tls"`, edgeIP, f.edgeTLS),
		`TLSCFG="`+writeKamailioTLS(t, kamCert, kamKey, pki.caFile)+`"`)
	return f
}

func (f *federation) kamAddr() string { return fmt.Sprintf("%s:%d", kamIP, f.kam.udpPort) }

// TestFederationKamailio: a MESSAGE and a call both ways between a Parley
// user and a user registered at Kamailio, across the edge over mutual
// TLS; then what the edge refuses.
func TestFederationKamailio(t *testing.T) {
	f := startFederation(t)

	// First, before Kamailio has a connection to the edge: with its name
	// off the edge's allow list, Kamailio's certificate (our CA,
	// serverAuth) passes the handshake and its MESSAGE gets 403 from the
	// edge. Then it is allowed again for the rest.
	t.Run("a partner not on the allow list gets 403", func(t *testing.T) {
		if _, err := f.edge.ctl("partner", "del", kamDomain); err != nil {
			t.Fatal(err)
		}
		run, err := runSipp(t, f.kamAddr(), sipp{Name: "dave-unlisted", Scenario: "fed_uac_message.xml", User: "dave",
			Password: "x", Service: "bob", Keys: map[string]string{"from_domain": kamDomain, "to_domain": domain}})
		if err != nil {
			t.Fatal(err)
		}
		if codes := finalCodes(run.messages()); len(codes) == 0 || codes[len(codes)-1] != "403" {
			t.Fatalf("MESSAGE from an unlisted partner: finals %v, want 403", codes)
		}
		if n := f.edge.metric(t, `parley_sip_dropped_total{reason="peer_not_allowed"}`); n < 1 {
			t.Fatalf("refusal not counted (%v)", n)
		}
		if _, err := f.edge.ctl("partner", "add", kamDomain, "--identity", kamDomain); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("parley to kamailio", func(t *testing.T) {
		cid := uniqueCallID(t)
		carol := startSipp(t, f.kamAddr(), sipp{Name: "carol", Scenario: "fed_uas.xml", User: "carol", Password: "x",
			CallID: cid, Keys: map[string]string{"my_domain": kamDomain}, Timeout: 40 * time.Second})
		waitTrace(t, carol, `SIP/2.0 200`, 10*time.Second)
		keys := map[string]string{"from_domain": domain, "to_domain": kamDomain}
		msg, err := runSipp(t, f.home.sipAddr(), sipp{Name: "alice-msg", Scenario: "fed_uac_message.xml", User: "alice",
			Password: "secret", Service: "carol", CallID: cid, Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		if codes := finalCodes(msg.messages()); len(codes) == 0 || codes[len(codes)-1] != "200" {
			t.Fatalf("MESSAGE to carol@kam.example: finals %v", codes)
		}
		if _, err := runSipp(t, f.home.sipAddr(), sipp{Name: "alice-call", Scenario: "fed_uac_invite.xml", User: "alice",
			Password: "secret", Service: "carol", CallID: cid, Keys: keys, Timeout: 30 * time.Second}); err != nil {
			t.Fatal(err)
		}
		if err := carol.wait(); err != nil {
			t.Fatal(err)
		}
		// Topology hiding: carol sees Kamailio's and the edge's Vias only,
		// and a Contact of the edge, never the home node or alice's UA.
		invite := regexp.MustCompile(`(?s)INVITE sip:carol@.*?\r?\n\r?\n`).FindString(carol.messages())
		if invite == "" {
			t.Fatal("carol's trace has no INVITE")
		}
		if strings.Contains(invite, fmt.Sprintf(":%d", f.home.sipPort)) || !strings.Contains(invite, "th-") ||
			!strings.Contains(invite, fmt.Sprintf("%s:%d", edgeIP, f.edgeTLS)) {
			t.Fatalf("the partner saw the inside:\n%s", invite)
		}
		// RFC 3263: the edge found Kamailio by NAPTR and SRV, past the dead target.
		if q := f.dns.Queries(); !slices.Contains(q, "NAPTR kam.example.") || !slices.Contains(q, "SRV _sips._tcp.kam.example.") {
			t.Fatalf("DNS queries %v", q)
		}
	})

	t.Run("kamailio to parley", func(t *testing.T) {
		cid := uniqueCallID(t)
		port := freePort(t)
		bob := startSipp(t, f.home.sipAddr(), sipp{Name: "bob", Scenario: "fed_uas.xml", User: "bob", Password: "secret",
			LocalPort: port, CallID: cid, Keys: map[string]string{"my_domain": domain}, Timeout: 40 * time.Second})
		if err := f.home.waitBinding("bob", port, true, 10*time.Second); err != nil {
			t.Fatalf("bob not registered: %v\n%s", err, tailFile(bob.msgLog, 8<<10))
		}
		keys := map[string]string{"from_domain": kamDomain, "to_domain": domain}
		msg, err := runSipp(t, f.kamAddr(), sipp{Name: "dave-msg", Scenario: "fed_uac_message.xml", User: "dave",
			Password: "x", Service: "bob", CallID: cid, Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		if codes := finalCodes(msg.messages()); len(codes) == 0 || codes[len(codes)-1] != "200" {
			t.Fatalf("MESSAGE to bob@localhost: finals %v", codes)
		}
		call, err := runSipp(t, f.kamAddr(), sipp{Name: "dave-call", Scenario: "fed_uac_invite.xml", User: "dave",
			Password: "x", Service: "bob", CallID: cid, Keys: keys, Timeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := bob.wait(); err != nil {
			t.Fatal(err)
		}
		// dave's 200 names the edge, not the home node, in Contact and Record-Route.
		ok := regexp.MustCompile(`(?s)SIP/2.0 200 OK.*?CSeq: 1 INVITE.*?\r?\n\r?\n`).FindString(call.messages())
		if ok == "" || strings.Contains(ok, fmt.Sprintf(":%d", f.home.sipPort)) || !strings.Contains(ok, "th-") {
			t.Fatalf("dave's 200 shows the inside:\n%s", ok)
		}
	})

	t.Run("a domain the partner does not own gets 403", func(t *testing.T) {
		run, err := runSipp(t, f.kamAddr(), sipp{Name: "mallory", Scenario: "fed_uac_message.xml", User: "mallory",
			Password: "x", Service: "bob", Keys: map[string]string{"from_domain": "evil.example", "to_domain": domain}})
		if err != nil {
			t.Fatal(err)
		}
		if codes := finalCodes(run.messages()); len(codes) == 0 || codes[len(codes)-1] != "403" {
			t.Fatalf("From evil.example through Kamailio: finals %v, want 403", codes)
		}
	})

	t.Run("a domain that is not a partner gets 403", func(t *testing.T) {
		run, err := runSipp(t, f.home.sipAddr(), sipp{Name: "alice-out", Scenario: "fed_uac_message.xml", User: "alice",
			Password: "secret", Service: "x", Keys: map[string]string{"from_domain": domain, "to_domain": "notapartner.example"}})
		if err != nil {
			t.Fatal(err)
		}
		if codes := finalCodes(run.messages()); len(codes) == 0 || codes[len(codes)-1] != "403" {
			t.Fatalf("to notapartner.example: finals %v, want 403", codes)
		}
	})

	t.Run("no certificate on the server listener is refused", func(t *testing.T) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 3 * time.Second}, "tcp",
			fmt.Sprintf("%s:%d", edgeIP, f.edgeTLS), &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
			_, _ = fmt.Fprintf(conn, "OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bK-nocert\r\n"+
				"From: <sip:x@kam.example>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: nocert@interop\r\nCSeq: 1 OPTIONS\r\n"+
				"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", domain, domain)
			buf := make([]byte, 512)
			n, rerr := conn.Read(buf)
			if rerr == nil {
				t.Fatalf("a client without a certificate got an answer: %q", buf[:n])
			}
		}
	})
}
