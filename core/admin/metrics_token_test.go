package admin

import (
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
	"github.com/parley-rtc/parley/core/directory"
)

// TestMetricsToken: with MetricsToken, /metrics wants the bearer token
// (401 without it or with another); the health endpoints stay open.
func TestMetricsToken(t *testing.T) {
	st := state.New()
	w := statetest.NewWriter(st)
	e := &env{st: st, h: NewHandler(Config{Token: testToken, Directory: directory.New(st, w, []string{"example.com"}), State: st,
		Cluster: &fakeCluster{}, Registry: prometheus.NewRegistry(), MetricsToken: true, Logger: discard()})}
	for _, tc := range []struct {
		name, path, auth string
		want             int
	}{
		{"metrics with the token", "/metrics", "Bearer " + testToken, http.StatusOK},
		{"metrics without", "/metrics", "", http.StatusUnauthorized},
		{"metrics with another token", "/metrics", "Bearer nope", http.StatusUnauthorized},
		{"healthz stays open", "/healthz", "", http.StatusOK},
	} {
		if r := e.do("GET", tc.path, "", "Authorization", tc.auth); r.code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, r.code, tc.want)
		}
	}
}
