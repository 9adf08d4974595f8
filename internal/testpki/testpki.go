// Package testpki issues throwaway certificates for Go tests: a thin
// testing.TB wrapper over core/transport/tlstest (which benchmarks and
// tools use without a testing.TB), failing the test instead of returning
// errors. Nothing here is for production use.
package testpki

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"

	"github.com/parley-rtc/parley/core/transport/tlstest"
)

// CA is a test certificate authority.
type CA struct {
	*tlstest.CA
}

// NewCA creates a self-signed CA named name.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	ca, err := tlstest.NewNamedCA(name)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{ca}
}

// Issue makes a leaf for name (DNS SAN and CN, plus the IP 127.0.0.1)
// with the given extended key usages.
func (ca *CA) Issue(t testing.TB, name string, usage ...x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	c, err := ca.CA.Issue(name, []net.IP{net.ParseIP("127.0.0.1")}, usage...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// WriteCA writes the CA certificate as a PEM file and returns its path.
func (ca *CA) WriteCA(t testing.TB) string {
	t.Helper()
	path, err := ca.CA.WriteCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// WritePair writes a certificate and its key as PEM files and returns
// their paths.
func WritePair(t testing.TB, c tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile, err := tlstest.WritePair(t.TempDir(), "cert", c)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
