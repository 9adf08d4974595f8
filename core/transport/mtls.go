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
	leaf, err := verifyChain(raw, roots, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return err
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

// verifyChain checks that the certificates a peer presented (leaf first)
// chain to roots for usage, and returns the leaf.
func verifyChain(raw [][]byte, roots *x509.CertPool, usage x509.ExtKeyUsage) (*x509.Certificate, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: no certificate", ErrPeerRefused)
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrPeerRefused, err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPeerRefused, err)
	}
	return certs[0], nil
}

// ClusterServerTLS is the TLS configuration of the intra-cluster SIP link
// (cluster-sip with cluster-ca): the node presents cert, and a peer must
// present a certificate that chains to the cluster CA. Any such
// certificate is a member's identity; names are not checked (members are
// often known by IP addresses that certificates do not name).
func ClusterServerTLS(cert tls.Certificate, roots *x509.CertPool) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		ClientAuth:   tls.RequireAnyClientCert, // verified below, by chain only
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			_, err := verifyChain(raw, roots, x509.ExtKeyUsageAny)
			return err
		},
	}
}

// DialTLS is the configuration of the TLS connections a node with a
// cluster certificate opens: it presents cert when asked, and accepts a
// server whose certificate chains to the cluster CA (another member's
// link, by chain only) or else one the system roots trust for the name
// dialled, as any TLS client would.
func DialTLS(cert tls.Certificate, roots *x509.CertPool) *tls.Config {
	return &tls.Config{
		Certificates:       []tls.Certificate{cert},
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // verified below
		VerifyConnection: func(cs tls.ConnectionState) error {
			raw := make([][]byte, len(cs.PeerCertificates))
			for i, c := range cs.PeerCertificates {
				raw[i] = c.Raw
			}
			if _, err := verifyChain(raw, roots, x509.ExtKeyUsageAny); err == nil {
				return nil
			}
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("%w: no certificate", ErrPeerRefused)
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: cs.ServerName, Intermediates: inter})
			return err
		},
	}
}
