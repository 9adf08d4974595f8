package raftnode

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ErrPeerCertificate marks a cluster peer refused for its certificate.
var ErrPeerCertificate = errors.New("raftnode: peer certificate refused")

// LoadTLS builds the mutual TLS configuration of the cluster transport
// from PEM files: the cluster CA, and this node's certificate and key.
// Both ends of every raft and forwarding connection must present a
// certificate issued by that CA; give the cluster a CA of its own, since
// any certificate it signed is a member's identity.
func LoadTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("raftnode: cluster certificate: %w", err)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("raftnode: cluster ca: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("raftnode: cluster ca %s: no PEM certificates", caFile)
	}
	return ClusterTLS(cert, roots), nil
}

// ClusterTLS is the mutual TLS configuration for a node holding cert whose
// peers must chain to roots. Peers are checked by chain only: raft
// addresses are often IPs that certificates do not name.
func ClusterTLS(cert tls.Certificate, roots *x509.CertPool) *tls.Config {
	verify := func(raw [][]byte, _ [][]*x509.Certificate) error { return verifyChain(raw, roots) }
	return &tls.Config{
		Certificates:          []tls.Certificate{cert},
		MinVersion:            tls.VersionTLS13,
		ClientAuth:            tls.RequireAnyClientCert, // checked by verify
		InsecureSkipVerify:    true,                     // checked by verify: no names to match
		VerifyPeerCertificate: verify,
	}
}

func verifyChain(raw [][]byte, roots *x509.CertPool) error {
	if len(raw) == 0 {
		return fmt.Errorf("%w: none presented", ErrPeerCertificate)
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrPeerCertificate, err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	if _, err := certs[0].Verify(opts); err != nil {
		return fmt.Errorf("%w: %w", ErrPeerCertificate, err)
	}
	return nil
}
