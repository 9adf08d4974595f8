package node

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/config"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and returns
// the cert and key paths.
func writeCert(t *testing.T) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "parley-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	cert, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return cert, keyFile
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
