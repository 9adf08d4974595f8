package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// ErrPeerRefused is a server-listener peer whose certificate is missing,
// not from our CA, not for server authentication, or not for a trusted
// name.
var ErrPeerRefused = errors.New("transport: peer refused")

// PeerCheck says whether a certificate name (DNS SAN, or CN without SANs,
// lower-cased) belongs to a server we accept: a cluster member
// (trusted-peers) or an allowed federation partner. It is called on every
// handshake, so a partner added at run time is accepted at once.
type PeerCheck func(name string) bool

// ServerTLS derives the TLS configuration of a trust=server listener from
// base: the peer must present a certificate that chains to roots, carries
// the serverAuth extended key usage (LCS: "a server enhanced key usage")
// and names a peer ok accepts. Anything else fails the handshake, so such
// a peer never sends a request.
func ServerTLS(base *tls.Config, roots *x509.CertPool, ok PeerCheck) *tls.Config {
	c := base.Clone()
	c.ClientAuth = tls.RequireAnyClientCert // verified below: Go's default wants clientAuth
	c.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		return verifyPeer(raw, roots, ok)
	}
	return c
}

// ClientTLS is the configuration for connections parleyd opens to other
// servers: it presents base's certificate (partners with mutual TLS ask
// for it) and accepts a peer by the same rule as ServerTLS. The peer's
// name is checked against the accepted servers rather than the dialled
// host, because sipgo dials the address DNS resolution produced and
// offers the IP as the server name.
func ClientTLS(base *tls.Config, roots *x509.CertPool, ok PeerCheck) *tls.Config {
	c := base.Clone()
	c.InsecureSkipVerify = true // verified below, against roots and ok
	c.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		return verifyPeer(raw, roots, ok)
	}
	return c
}

func verifyPeer(raw [][]byte, roots *x509.CertPool, ok PeerCheck) error {
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
	names := certNames(leaf)
	for _, n := range names {
		if ok(n) {
			return nil
		}
	}
	return fmt.Errorf("%w: %v is not a trusted peer", ErrPeerRefused, names)
}

// certNames is what a certificate names: its DNS SANs, else its CN.
func certNames(c *x509.Certificate) []string {
	names := make([]string, 0, len(c.DNSNames)+1)
	for _, n := range c.DNSNames {
		names = append(names, strings.ToLower(n))
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, strings.ToLower(c.Subject.CommonName))
	}
	return names
}

// PeerNames returns the names in the certificate the peer of a TLS
// connection presented (DNS SANs, else CN); nil for other connections or
// without a certificate.
func PeerNames(conn sip.Connection) []string {
	var nc net.Conn
	switch c := conn.(type) {
	case *sip.TCPConnection:
		nc = c.Conn
	case *sip.WSConnection:
		nc = c.Conn
	default:
		return nil
	}
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return nil
	}
	st := tc.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return nil
	}
	return certNames(st.PeerCertificates[0])
}
