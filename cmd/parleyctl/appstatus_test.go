package main

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
	"github.com/parley-rtc/parley/core/admin"
	"github.com/parley-rtc/parley/core/directory"
)

func TestAppStatus(t *testing.T) {
	st := state.New()
	w := statetest.NewWriter(st)
	dir := directory.New(st, w, []string{"example.com"})
	srv := httptest.NewServer(admin.NewHandler(admin.Config{
		Token: testToken, Directory: dir, State: st, Cluster: fakeCluster{}, Writer: w,
		Plugins: func(app string) (admin.PluginState, bool) {
			if app != "xmpp" {
				return admin.PluginState{}, false
			}
			return admin.PluginState{Up: true, PID: 4242, Restarts: 1, Health: &api.PluginHealth{At: testNow, OK: false,
				Detail: "link down", Details: map[string]string{"connected": "false", "server": "127.0.0.1:5347", "reconnects": "3", "last_error": "EOF\nx"}}}, true
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow },
	}))
	t.Cleanup(srv.Close)
	s := &testServer{url: srv.URL, st: st, w: w, dir: dir}
	steps := []struct {
		args      string
		code      int
		stdout    string
		stdoutHas string
		stderrHas string
	}{
		{args: "app add xmpp --kind plugin --command parley-xmpp --claims *@xmpp.example.net --singleton", stdoutHas: "app xmpp at position 50"},
		{args: "app add up --kind plugin --command echo"},
		{args: "app status xmpp", stdout: "" +
			"app xmpp: plugin, position 50, enabled\n" +
			"command: parley-xmpp\n" +
			"claims: *@xmpp.example.net\n" +
			"process: up pid 4242, 1 restarts\n" +
			"health: trouble: link down (at 2023-11-14T22:13:20Z)\n" +
			"  connected   false\n" +
			"  last_error  EOF x\n" +
			"  reconnects  3\n" +
			"  server      127.0.0.1:5347\n"},
		{args: "app status up", stdoutHas: "process: down, 0 restarts\nhealth: not asked yet\n"},
		{args: "app status router", stdout: "app router: builtin, position 100, enabled\n"},
		{args: "app status xmpp -o json", stdoutHas: `"reconnects": "3"`},
		{args: "app status nope", code: 1, stderrHas: "app nope not found"},
		{args: "app status", code: 2, stderrHas: "missing argument"},
	}
	for _, step := range steps {
		r := s.run("", strings.Fields(step.args))
		if r.code != step.code || (step.stdout != "" && r.stdout != step.stdout) || !strings.Contains(r.stdout, step.stdoutHas) ||
			!strings.Contains(r.stderr, step.stderrHas) {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr: %s", step.args, r.code, r.stdout, r.stderr)
		}
	}
}
