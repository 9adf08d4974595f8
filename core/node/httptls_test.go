package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/core/config"
	"github.com/parley-rtc/parley/internal/testpki"
)

// TestAdminAndXCAPOverTLS: with admin-tls-cert/-key and xcap-tls-cert/-key
// (certificates made here, from a throwaway CA), both listeners speak
// HTTPS only, the member entry publishes an https admin_url, /metrics
// wants the token with metrics-token, and an archive search (which asks
// the members over their admin URLs) answers for this node.
func TestAdminAndXCAPOverTLS(t *testing.T) {
	ca := testpki.NewCA(t, "admin test CA")
	cert, key := testpki.WritePair(t, ca.Issue(t, "localhost", x509.ExtKeyUsageServerAuth))
	caFile := ca.WriteCA(t)
	n := buildNode(t, func(c *config.Config) {
		c.AdminTLSCert, c.AdminTLSKey = cert, key
		c.XCAPTLSCert, c.XCAPTLSKey = cert, key
		c.MetricsToken = true
	})
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	admin := "https://" + n.cfg.AdminListen

	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan error, 1)
	go func(done chan error) { done <- Run(ctx, n.cfg, n.log, n.opts...) }(n.done)
	ready := false
	for range 300 {
		if res, err := client.Get(admin + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				ready = true
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !ready {
		t.Fatal("node not ready over HTTPS")
	}

	get := func(c *http.Client, url string, token bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token {
			req.Header.Set("Authorization", "Bearer "+n.cfg.AdminToken)
		}
		res, err := c.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for range 1024 {
			k, err := res.Body.Read(buf)
			b.Write(buf[:k])
			if err != nil {
				break
			}
		}
		return res.StatusCode, b.String()
	}
	if code, _ := get(&http.Client{Timeout: 2 * time.Second}, "http://"+n.cfg.AdminListen+"/healthz", false); code != http.StatusBadRequest {
		t.Error("the admin API answered plain HTTP")
	}
	// Go's TLS server answers plain HTTP with a bare 400.
	if code, body := get(&http.Client{Timeout: 2 * time.Second}, "http://"+n.cfg.XCAPListen+"/", false); code != http.StatusBadRequest || !strings.Contains(body, "HTTPS") {
		t.Errorf("XCAP answered plain HTTP with %d %q", code, body)
	}
	if code, body := get(client, "https://"+n.cfg.XCAPListen+"/xcap-caps/global/index", false); code == 0 || code == http.StatusBadRequest {
		t.Errorf("XCAP over HTTPS: %d %s", code, body)
	}
	if code, _ := get(client, admin+"/metrics", false); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d", code)
	}
	if code, _ := get(client, admin+"/metrics", true); code != http.StatusOK {
		t.Errorf("/metrics with the token: %d", code)
	}
	published := ""
	for range 100 {
		var st api.ClusterStatus
		if code, body := get(client, admin+"/v1/cluster", true); code == http.StatusOK && json.Unmarshal([]byte(body), &st) == nil {
			for _, m := range st.Members {
				if m.ID == n.cfg.NodeID {
					published = m.AdminURL
				}
			}
		}
		if published != "" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if published != admin {
		t.Errorf("published admin_url %q, want %q", published, admin)
	}
	code, body := get(client, admin+"/v1/archive", true)
	var res api.ArchiveSearch
	if err := json.Unmarshal([]byte(body), &res); code != http.StatusOK || err != nil || len(res.Nodes) != 1 || res.Nodes[0].Node != n.cfg.NodeID || res.Partial {
		t.Errorf("archive search: %d %s", code, body)
	}
}
