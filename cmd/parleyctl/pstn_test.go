package main

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
	"github.com/parley-rtc/parley/core/admin"
	"github.com/parley-rtc/parley/core/directory"
)

const pstnTestDoc = `{
  "dial_plans": [{"name": "us", "scope": "global", "rules": [
    {"name": "us-ld", "pattern": "^9?1?(\\d{10})$", "translation": "+1$1"}]}],
  "users": [{"name": "alice@example.com", "numbers": ["tel:+12065550101"]}],
  "policies": [{"name": "local", "default": true, "usages": ["local"]}],
  "routes": [{"name": "seattle", "usages": ["local"], "prefix": "+1206",
    "gateways": {"members": [{"trunk": "gwA"}, {"trunk": "gwB"}]}}],
  "trunks": [
    {"name": "gwA", "address": "127.0.0.1:5071", "trusted": true, "caller_id": {"assert_identity": true}, "failover": {"timer": "3s"}},
    {"name": "gwB", "address": "127.0.0.1:5072", "called": {"format": "national", "country": "US"}}]
}`

// newPSTNServer runs the admin handler with a writer (the PSTN routes
// need one).
func newPSTNServer(t *testing.T) *testServer {
	t.Helper()
	st := state.New()
	w := statetest.NewWriter(st)
	dir := directory.New(st, w, []string{"example.com"})
	h := admin.NewHandler(admin.Config{Token: testToken, Directory: dir, State: st, Cluster: fakeCluster{}, Writer: w,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow }})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testServer{url: srv.URL, st: st, w: w, dir: dir}
}

// TestPSTNCommands: apply (new, then again over the version in force),
// an invalid file refused with every problem, show, test, and a trunk
// drained and enabled again by read-modify-write.
func TestPSTNCommands(t *testing.T) {
	s := newPSTNServer(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "pstn.json")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(pstnTestDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	badDoc := strings.Replace(pstnTestDoc, `{"trunk": "gwB"}`, `{"trunk": "gwZ"}`, 1)
	badDoc = strings.Replace(badDoc, `"^9?1?(\\d{10})$"`, `"^9?1?(\\d{10}$"`, 1)
	if err := os.WriteFile(bad, []byte(badDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"pstn", "show"}, 1, []string{`no PSTN configuration "default"`}},
		{[]string{"pstn", "apply", good}, 0, []string{"pstn configuration default: version 1"}},
		{[]string{"pstn", "apply", good, "--version", "0"}, 0, []string{"version 1"}}, // the same write: a no-op
		{[]string{"pstn", "apply", bad}, 1, []string{"2 problem(s)", `trunk "gwZ" is not defined`, `rule "us-ld"`}},
		{[]string{"pstn", "trunk", "drain", "gwB"}, 0, []string{"trunk gwB: draining (pstn configuration default version 2)"}},
		{[]string{"pstn", "test", "alice@example.com", "912065550100"}, 0, []string{"config:    default (version 2)",
			"number:    +12065550100 (E.164)", "1. gwA called +12065550100", "skipped:   gwB"}},
		{[]string{"pstn", "trunk", "enable", "gwB"}, 0, []string{"trunk gwB: enabled (pstn configuration default version 3)"}},
		{[]string{"pstn", "test", "alice@example.com", "912065550100"}, 0, []string{"2. gwB called 2065550100"}},
		{[]string{"pstn", "trunk", "drain", "gwQ"}, 1, []string{`no trunk "gwQ"`}},
		{[]string{"pstn", "trunk", "pause", "gwB"}, 2, []string{"not drain, enable or disable"}},
		{[]string{"pstn", "apply", good, "--version", "1"}, 1, []string{"at version 3, not 1"}},
		{[]string{"pstn", "show"}, 0, []string{"# pstn configuration default, version 3", `"name": "gwA"`}},
		{[]string{"pstn", "list"}, 0, []string{"default", "3"}},
	}
	for _, st := range steps {
		r := s.run("", st.args)
		if r.code != st.code {
			t.Fatalf("%v: exit %d, want %d\nstdout %s\nstderr %s", st.args, r.code, st.code, r.stdout, r.stderr)
		}
		for _, w := range st.want {
			if !strings.Contains(r.stdout+r.stderr, w) {
				t.Fatalf("%v: %q not in\nstdout %s\nstderr %s", st.args, w, r.stdout, r.stderr)
			}
		}
	}
}
