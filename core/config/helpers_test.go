package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// errKeys returns the keys named by the KeyErrors in err, sorted.
func errKeys(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if ke, ok := e.(*KeyError); ok {
			out = append(out, ke.Key)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	if err != nil {
		walk(err)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// tlsFiles holds paths to test files for the tls-cert/tls-key checks.
type tlsFiles struct {
	dir, cert, key, otherKey, garbage, big string
}

// writeTLSFiles writes a self-signed certificate, its key, an unrelated key
// and a garbage file into a fresh temporary directory.
func writeTLSFiles(t testing.TB) tlsFiles {
	t.Helper()
	dir := t.TempDir()
	f := tlsFiles{
		dir:      dir,
		cert:     filepath.Join(dir, "cert.pem"),
		key:      filepath.Join(dir, "key.pem"),
		otherKey: filepath.Join(dir, "other-key.pem"),
		garbage:  filepath.Join(dir, "garbage.pem"),
		big:      filepath.Join(dir, "big.pem"),
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sip.example.com"},
		DNSNames:     []string{"sip.example.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, f.cert, "CERTIFICATE", der)
	writeKey(t, f.key, key)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	writeKey(t, f.otherKey, other)
	if err := os.WriteFile(f.garbage, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.big, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(f.big, maxPEMSize+1); err != nil { // sparse
		t.Fatal(err)
	}
	return f
}

func writeKey(t testing.TB, path string, k *ecdsa.PrivateKey) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, path, "PRIVATE KEY", der)
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
