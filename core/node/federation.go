package node

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"slices"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/config"
	"github.com/parley-rtc/parley/core/resolve"
	"github.com/parley-rtc/parley/core/transport"
)

// federation is what a node needs to reach other servers: the TLS
// configuration for connections it opens, the RFC 3263 resolver and an
// edge's inward next hops.
type federation struct {
	dial     transport.DialIdentity // completed with the cluster identity by startSIP
	resolver *resolve.Resolver
	inward   []sip.Uri
}

// peerCheck accepts the certificate names of cluster members
// (trusted-peers) and of allowed partners, read from the replicated state
// at each handshake.
func peerCheck(cfg config.Config, st *state.State) transport.PeerCheck {
	return func(name string) bool {
		if slices.Contains(cfg.TrustedPeers, name) {
			return true
		}
		_, ok := st.PartnerByIdentity(name)
		return ok
	}
}

func newFederation(cfg config.Config, peers transport.PeerCheck, log *slog.Logger) (*federation, error) {
	f := &federation{}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("node: tls-cert/tls-key: %w", err)
		}
		f.dial.Certificates = []tls.Certificate{cert}
		if cfg.TLSCA != "" {
			roots, err := loadCA(cfg.TLSCA)
			if err != nil {
				return nil, err
			}
			f.dial.PeerRoots, f.dial.Peers = roots, peers
		}
	}
	r, err := resolve.New(resolve.Config{Server: cfg.DNSServer})
	if err != nil {
		// Partners with an explicit next hop and static routes still work.
		log.Warn("no DNS resolver: partners need a next hop or a static route", "error", err)
	} else {
		f.resolver = r
	}
	for _, s := range cfg.EdgeInward {
		var u sip.Uri
		if err := sip.ParseUri(s, &u); err != nil {
			return nil, fmt.Errorf("node: edge-inward %q: %w", s, err)
		}
		f.inward = append(f.inward, u)
	}
	return f, nil
}

// loadCA reads a PEM file of CA certificates.
func loadCA(path string) (*x509.CertPool, error) {
	roots := x509.NewCertPool()
	data, err := os.ReadFile(path)
	if err != nil || !roots.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("node: tls-ca %q: no CA certificates (%v)", path, err)
	}
	return roots, nil
}
