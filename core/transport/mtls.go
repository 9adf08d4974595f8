package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrPeerRefused is a server-listener peer whose certificate is missing,
// not from our CA, not for server authentication, or not for a trusted
// name.
var ErrPeerRefused = errors.New("transport: peer refused")

// ServerTLS derives the TLS configuration of a trust=server listener from
// base: the peer must present a certificate that chains to roots, carries
// the serverAuth extended key usage (LCS: "a server enhanced key usage")
// and names (DNS SAN, or CN without SANs) one of the trusted peers.
// Anything else fails the handshake, so such a peer never sends a request.
func ServerTLS(base *tls.Config, roots *x509.CertPool, peers []string) *tls.Config {
	c := base.Clone()
	c.ClientAuth = tls.RequireAnyClientCert // verified below: Go's default wants clientAuth
	c.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		return verifyPeer(raw, roots, peers)
	}
	return c
}

func verifyPeer(raw [][]byte, roots *x509.CertPool, peers []string) error {
	if len(raw) == 0 {
		return fmt.Errorf("%w: no certificate", ErrPeerRefused)
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrPeerRefused, err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	leaf := certs[0]
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return fmt.Errorf("%w: %w", ErrPeerRefused, err)
	}
	names := leaf.DNSNames
	if len(names) == 0 && leaf.Subject.CommonName != "" {
		names = []string{leaf.Subject.CommonName}
	}
	for _, n := range names {
		if slices.Contains(peers, strings.ToLower(n)) {
			return nil
		}
	}
	return fmt.Errorf("%w: %v is not a trusted peer", ErrPeerRefused, names)
}
