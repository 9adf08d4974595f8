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

// ErrPeerRefused is a peer whose certificate is missing, not from our CA
// or not for server authentication, or (on connections we open) not for
// a trusted name.
var ErrPeerRefused = errors.New("transport: peer refused")

// PeerCheck says whether a certificate name (DNS SAN, or CN without SANs,
// lower-cased) belongs to a server we accept: a cluster member
// (trusted-peers) or an allowed federation partner. DialTLS calls it on
// every handshake, so a partner added at run time is accepted at once.
type PeerCheck func(name string) bool

// ServerTLS derives the TLS configuration of a trust=server listener from
// base: the peer must present a certificate that chains to roots and
// carries the serverAuth extended key usage (LCS: "a server enhanced key
// usage"); anything else fails the handshake, so such a peer never sends
// a request. Its name is not checked here: the pipeline checks it per
// request (a cluster member or an allowed partner, else 403), so a server
// of a domain we do not federate with gets a SIP answer saying so.
func ServerTLS(base *tls.Config, roots *x509.CertPool) *tls.Config {
	c := base.Clone()
	c.ClientAuth = tls.RequireAnyClientCert // verified below: Go's default wants clientAuth
	c.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		_, err := verifyChain(raw, roots, x509.ExtKeyUsageServerAuth)
		return err
	}
	return c
}

func verifyPeer(raw [][]byte, roots *x509.CertPool, ok PeerCheck) error {
	leaf, err := verifyChain(raw, roots, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return err
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
		ClientCAs:    roots,                    // announced, so a dialling node offers its cluster certificate
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			_, err := verifyChain(raw, roots, x509.ExtKeyUsageAny)
			return err
		},
	}
}

// DialIdentity is what a node presents and accepts on the TLS
// connections it opens (to partners, gateways and other members' links).
type DialIdentity struct {
	// Certificates offered when the server asks for one: the federation
	// certificate (tls-cert) first, then the cluster certificate. Go
	// offers the first whose issuer the server lists as acceptable (the
	// cluster link lists the cluster CA), else the first.
	Certificates []tls.Certificate
	// ClusterRoots (cluster-ca): a server whose certificate chains here is
	// another member's link, accepted by chain alone.
	ClusterRoots *x509.CertPool
	// PeerRoots (tls-ca): a server chaining here must carry serverAuth and
	// name a peer Peers accepts (a member or an allowed partner). The name
	// is checked against the accepted servers rather than the dialled
	// host, because sipgo dials the address DNS resolution produced and
	// offers the IP as the server name.
	PeerRoots *x509.CertPool
	Peers     PeerCheck
}

// DialTLS is the client TLS configuration for id, or nil when id has
// nothing to present or check (sipgo's defaults then apply). Without
// PeerRoots, a server that is not a member is checked against the system
// roots for the name dialled, as any TLS client would.
func DialTLS(id DialIdentity) *tls.Config {
	if len(id.Certificates) == 0 && id.ClusterRoots == nil && id.PeerRoots == nil {
		return nil
	}
	return &tls.Config{
		Certificates:       id.Certificates,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // verified below
		VerifyConnection: func(cs tls.ConnectionState) error {
			raw := make([][]byte, len(cs.PeerCertificates))
			for i, c := range cs.PeerCertificates {
				raw[i] = c.Raw
			}
			if id.ClusterRoots != nil {
				if _, err := verifyChain(raw, id.ClusterRoots, x509.ExtKeyUsageAny); err == nil {
					return nil
				}
			}
			if id.PeerRoots != nil {
				return verifyPeer(raw, id.PeerRoots, id.Peers)
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
