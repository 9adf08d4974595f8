package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/config"
	"github.com/parley-rtc/parley/internal/testpki"
)

// writeCert writes a certificate for 127.0.0.1 and localhost from a fresh
// test CA and returns the cert and key paths.
func writeCert(t *testing.T) (string, string) {
	t.Helper()
	return testpki.WritePair(t, testpki.NewCA(t, "parley test CA").Issue(t, "localhost", x509.ExtKeyUsageServerAuth))
}

func TestNodeRegistersOverTLSAndWS(t *testing.T) {
	cert, key := writeCert(t)
	tlsPort, wsPort := freePort(t), freePort(t)
	n := startNodeWith(t, func(cfg *config.Config) {
		cfg.SIPListen = append(cfg.SIPListen, fmt.Sprintf("tls://127.0.0.1:%d", tlsPort), fmt.Sprintf("ws://127.0.0.1:%d", wsPort))
		cfg.TLSCert, cfg.TLSKey = cert, key
	})
	n.addUser(t, "alice", "wonder")
	for _, tc := range []struct {
		transport string
		port      int
	}{{"TLS", tlsPort}, {"WS", wsPort}} {
		t.Run(tc.transport, func(t *testing.T) {
			u, err := sipgo.NewUA(sipgo.WithUserAgentHostname("localhost"),
				sipgo.WithUserAgenTLSConfig(&tls.Config{InsecureSkipVerify: true})) // self-signed test cert
			if err != nil {
				t.Fatal(err)
			}
			defer u.Close()
			client, _ := sipgo.NewClient(u, sipgo.WithClientHostname("127.0.0.1"))
			req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "localhost", UriParams: sip.HeaderParams{{K: "transport", V: tc.transport}}})
			aor := sip.Uri{Scheme: "sip", User: "alice", Host: "localhost"}
			req.AppendHeader(&sip.FromHeader{Address: aor, Params: tagParams()})
			req.AppendHeader(&sip.ToHeader{Address: aor})
			req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: 5999,
				UriParams: sip.HeaderParams{{K: "transport", V: tc.transport}}}})
			req.SetDestination(fmt.Sprintf("127.0.0.1:%d", tc.port))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := client.Do(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode == 401 {
				res, err = client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "alice", Password: "wonder"})
				if err != nil {
					t.Fatal(err)
				}
			}
			if res.StatusCode != 200 {
				t.Fatalf("register over %s: %d", tc.transport, res.StatusCode)
			}
		})
	}
}
