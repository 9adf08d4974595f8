package admin

import (
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/cluster/state"
)

func TestPutPluginApp(t *testing.T) {
	e := newEnv(t)
	e.h = NewHandler(Config{Token: testToken, Directory: e.dir, State: e.st, Cluster: e.cluster, Writer: e.w,
		Registry: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Plugins: func(app string) (PluginState, bool) {
			return PluginState{Up: true, PID: 42, Restarts: 1}, app == "xmpp"
		}})
	tests := []struct {
		name, body string
		want       int
	}{
		{"plugin", `{"name":"xmpp","kind":"plugin","position":10,"enabled":true,"command":"xmppgw","args":["-v"],"claims":["*@xmpp.example.net"],"singleton":true,"settings":{"k":"v"}}`, http.StatusCreated},
		{"no command", `{"name":"p1","kind":"plugin","enabled":true}`, http.StatusBadRequest},
		{"path command", `{"name":"p2","kind":"plugin","enabled":true,"command":"../../bin/sh"}`, http.StatusBadRequest},
		{"bad claim", `{"name":"p3","kind":"plugin","enabled":true,"command":"x","claims":["a b"]}`, http.StatusBadRequest},
		{"bad kind", `{"name":"p4","kind":"wasm","enabled":true}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := e.do("POST", "/v1/apps", tt.body); r.code != tt.want {
				t.Fatalf("status %d %s", r.code, r.body)
			}
		})
	}
	var got *state.App
	for _, a := range e.st.Apps() {
		if a.Name == "xmpp" {
			got = &a
		}
	}
	list := decode[[]api.AppStatus](t, e.do("GET", "/v1/apps", ""))
	for _, a := range list {
		switch {
		case a.Name == "xmpp" && (a.Process == nil || !a.Process.Up || a.Process.PID != 42):
			t.Fatalf("plugin process in the list: %+v", a.Process)
		case a.Kind != state.AppPlugin && a.Process != nil:
			t.Fatalf("%s is not a plugin but shows a process", a.Name)
		}
	}
	if got == nil || got.Command != "xmppgw" || !got.Singleton || got.Settings["k"] != "v" || len(got.Args) != 1 || got.Claims[0] != "*@xmpp.example.net" {
		t.Fatalf("stored %+v", got)
	}
}
