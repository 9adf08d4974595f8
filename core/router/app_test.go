package router

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
	"github.com/parley-rtc/parley/core/chain"
	"github.com/parley-rtc/parley/core/location"
	"github.com/parley-rtc/parley/plugins/contract"
)

// The router is tested as a plugin is: a request in, a verdict out.

func newRouter(t *testing.T) *Router {
	t.Helper()
	st := state.New()
	w := statetest.NewWriter(st)
	ctx := context.Background()
	if _, err := w.Write(ctx, state.CmdUserPut, state.UserPut{Users: []state.User{
		{Username: "alice", Domain: "example.com", Enabled: true},
		{Username: "off", Domain: "example.com", Enabled: false},
		{Username: "away", Domain: "example.com", Enabled: true},
		{Username: "broken", Domain: "example.com", Enabled: true},
	}}); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Unix()
	for aor, b := range map[string]state.Binding{
		"alice@example.com":  {Contact: "sip:alice@192.0.2.1:5070", Transport: "UDP", Source: "192.0.2.1:5070", Home: "n1"},
		"broken@example.com": {Contact: "sip:broken@b:port", Transport: "UDP", Source: "192.0.2.3:5070", Home: "n1"},
	} {
		b.CallID, b.CSeq, b.Q, b.Expires, b.Updated = "c-"+aor, 1, 1000, exp, time.Now().UnixNano()
		if _, err := w.Write(ctx, state.CmdBindingUpdate, state.BindingUpdate{AOR: aor, Upsert: []state.Binding{b}}); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.DiscardHandler)
	return New(Config{
		Node: "n1", State: st, Location: location.New(st, w, "n1", log),
		Secret: func() []byte { return []byte("secret") },
		Ours:   func(host string, _ int) bool { return host == "example.com" },
		AOR:    func(u sip.Uri) string { return u.User + "@example.com" },
		Logger: log,
	})
}

func request(ruri string) *chain.Request {
	var u sip.Uri
	if err := sip.ParseUri(ruri, &u); err != nil {
		panic(err)
	}
	req := sip.NewRequest(sip.MESSAGE, u)
	return &chain.Request{Request: contract.Request{Req: req, Source: "198.51.100.7:5060", Transport: "UDP"}}
}

func TestRouterVerdicts(t *testing.T) {
	r := newRouter(t)
	tests := []struct {
		name    string
		ruri    string
		strict  bool
		claimed bool
		action  contract.Action
		code    int
		dest    string
	}{
		{"registered user goes to its binding", "sip:alice@example.com", false, false, contract.Continue, 0, "192.0.2.1:5070"},
		{"unknown user", "sip:nobody@example.com", false, false, contract.Respond, 404, ""},
		{"no user part", "sip:example.com", false, false, contract.Respond, 404, ""},
		{"disabled user", "sip:off@example.com", false, false, contract.Respond, 480, ""},
		{"not registered", "sip:away@example.com", false, false, contract.Respond, 480, ""},
		{"contact that does not parse", "sip:broken@example.com", false, false, contract.Respond, 500, ""},
		{"other domain is left alone", "sip:bob@elsewhere.net", false, false, contract.Continue, 0, ""},
		{"strict-routed is left alone", "sip:alice@example.com", true, false, contract.Continue, 0, ""},
		{"claimed address is left alone", "sip:alice@example.com", false, true, contract.Continue, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(tt.ruri)
			req.StrictRouted, req.Claimed = tt.strict, tt.claimed
			v, err := r.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if v.Action != tt.action || v.Code != tt.code {
				t.Fatalf("verdict %s %d, want %s %d", v.Action, v.Code, tt.action, tt.code)
			}
			if v.Chosen != (tt.dest != "") || v.Choice.Target.Dest != tt.dest {
				t.Fatalf("chosen %v %q, want %q", v.Chosen, v.Choice.Target.Dest, tt.dest)
			}
			if v.Chosen && (v.Choice.Endpoint.AOR != "alice@example.com" || v.Choice.Endpoint.Home != "n1" || r.Remote(v.Choice.Endpoint)) {
				t.Fatalf("endpoint %+v", v.Choice.Endpoint)
			}
		})
	}
}

func TestUnreached(t *testing.T) {
	if code, _ := Unreached(nil); code != 480 {
		t.Fatalf("unreachable: %d", code)
	}
}
