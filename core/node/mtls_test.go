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

func TestNodeServerListenerRequiresMutualTLS(t *testing.T) {
	ca := testpki.NewCA(t, "parley test CA")
	certFile, keyFile := testpki.WritePair(t, ca.Issue(t, "parley.test", x509.ExtKeyUsageServerAuth))
	caFile := ca.WriteCA(t)
	port := freePort(t)
	n := startNodeWith(t, func(c *config.Config) {
		c.SIPListen = append(c.SIPListen, fmt.Sprintf("tls://127.0.0.1:%d?trust=server", port))
		c.TLSCert, c.TLSKey, c.TLSCA, c.TrustedPeers = certFile, keyFile, caFile, []string{"peer.example"}
	})
	n.addUser(t, "alice", "pw-alice")
	alice := newUA(t, "alice")
	alice.register(t, n, "alice", "pw-alice")

	send := func(cert *tls.Certificate, wait time.Duration) (*sip.Response, error) {
		conf := &tls.Config{RootCAs: ca.Pool, ServerName: "127.0.0.1"}
		if cert != nil {
			conf.Certificates = []tls.Certificate{*cert}
		}
		u, err := sipgo.NewUA(sipgo.WithUserAgentHostname("peer.example"), sipgo.WithUserAgenTLSConfig(conf))
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close()
		client, _ := sipgo.NewClient(u, sipgo.WithClientHostname("127.0.0.1"))
		req := sip.NewRequest(sip.MESSAGE, sip.Uri{Scheme: "sip", User: "alice", Host: "localhost", UriParams: sip.HeaderParams{{K: "transport", V: "tls"}}})
		req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: "peer.example"}, Params: tagParams()})
		req.SetBody([]byte("federated hello"))
		req.SetDestination(fmt.Sprintf("127.0.0.1:%d", port))
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		return client.Do(ctx, req)
	}
	good := ca.Issue(t, "peer.example", x509.ExtKeyUsageServerAuth)
	res, err := send(&good, 5*time.Second)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("trusted peer: %v %v (a server peer needs no digest)", res, err)
	}
	select {
	case <-alice.got:
	case <-time.After(5 * time.Second):
		t.Fatal("alice got nothing from the peer")
	}
	clientOnly := ca.Issue(t, "peer.example", x509.ExtKeyUsageClientAuth)
	other := testpki.NewCA(t, "another CA")
	foreign := other.Issue(t, "peer.example", x509.ExtKeyUsageServerAuth)
	for name, cert := range map[string]*tls.Certificate{"no certificate": nil, "clientAuth only": &clientOnly, "another CA": &foreign} {
		if res, err := send(cert, 2*time.Second); err == nil {
			t.Errorf("%s: answered %d, want the connection refused", name, res.StatusCode)
		}
	}
	// From our CA for serverAuth, but neither a member nor a partner: the
	// handshake succeeds and the request gets 403.
	rogue := ca.Issue(t, "rogue.example", x509.ExtKeyUsageServerAuth)
	if res, err := send(&rogue, 5*time.Second); err != nil || res.StatusCode != 403 {
		t.Errorf("untrusted name: %v %v, want 403", res, err)
	}
}
