package node

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/parley-rtc/parley/core/config"
)

// HTTPS for the admin API and XCAP (config admin-tls-cert/-key,
// xcap-tls-cert/-key): the listener serves TLS 1.2 or later with the
// pair; without one it serves plain HTTP as before.

// serverTLS loads a listener's key pair; nil when neither is set
// (config validation already refused one without the other).
func serverTLS(cert, key string) (*tls.Config, error) {
	if cert == "" && key == "" {
		return nil, nil
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("node: load %s: %w", cert, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// adminClient is the HTTP client a node talks to other members' admin
// APIs with (join, the cluster-wide archive search): it trusts the
// system roots, cluster-ca and the certificates in admin-tls-cert (a
// cluster whose members share a CA bundle or one certificate).
func adminClient(cfg config.Config, timeout time.Duration) (*http.Client, error) {
	client := &http.Client{Timeout: timeout}
	if cfg.ClusterCA == "" && cfg.AdminTLSCert == "" {
		return client, nil
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	for _, f := range []string{cfg.ClusterCA, cfg.AdminTLSCert} {
		if f == "" {
			continue
		}
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("node: admin client roots: %w", err)
		}
		roots.AppendCertsFromPEM(pem)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	client.Transport = tr
	return client, nil
}
