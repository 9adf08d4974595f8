package main

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
	"github.com/parley-rtc/parley/core/admin"
	"github.com/parley-rtc/parley/core/directory"
)

func TestPartnerCommands(t *testing.T) {
	st := state.New()
	w := statetest.NewWriter(st)
	dir := directory.New(st, w, []string{"example.com"})
	srv := httptest.NewServer(admin.NewHandler(admin.Config{
		Token: testToken, Directory: dir, State: st, Cluster: fakeCluster{}, Writer: w,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow },
	}))
	t.Cleanup(srv.Close)
	s := &testServer{url: srv.URL, st: st, w: w, dir: dir}
	steps := []struct {
		args      string
		code      int
		stdout    string
		stderrHas string
	}{
		{"partner list", 0, "DOMAIN  IDENTITY  DNS NAME  NEXT HOP\n", ""},
		{"partner add kam.example --identity sip.kam.example --next-hop sip:127.0.0.5:5061;transport=tls", 0, "partner added: kam.example\n", ""},
		{"partner add b.example --dns sip.b.example", 0, "partner added: b.example\n", ""},
		{"partner add c.example --next-hop http://x", 1, "", "next_hop"},
		{"partner add", 2, "", "missing argument"},
		{"partner list", 0, "" +
			"DOMAIN       IDENTITY         DNS NAME       NEXT HOP\n" +
			"b.example    -                sip.b.example  -\n" +
			"kam.example  sip.kam.example  -              sip:127.0.0.5:5061;transport=tls\n", ""},
		{"partner del b.example", 0, "partner b.example removed\n", ""},
		{"partner del b.example", 1, "", "not found"},
	}
	for _, step := range steps {
		r := s.run("", strings.Fields(step.args))
		if r.code != step.code || (step.stdout != "" && r.stdout != step.stdout) || !strings.Contains(r.stderr, step.stderrHas) {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr: %s", step.args, r.code, r.stdout, r.stderr)
		}
	}
	if ps := st.Partners(); len(ps) != 1 || ps[0].Identity != "sip.kam.example" {
		t.Fatalf("partners %+v", ps)
	}
}
