package rules

import (
	"context"
	"log/slog"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/chain"
	"github.com/parley-rtc/parley/plugins/contract"
)

// A rules application is tested as a plugin is: a request in, a verdict
// out.
func TestAppVerdicts(t *testing.T) {
	tests := []struct {
		name     string
		rules    string
		critical bool
		action   contract.Action
		code     int
		target   string // Targets[0], or the Contact of a redirect
		nextHop  bool
		add      []string // names of AddHeaders
		remove   []string
	}{
		{"nothing matches", `[{name: a, when: Method == "INVITE", actions: [{kind: respond, code: 403}]}]`, false, contract.Continue, 0, "", false, nil, nil},
		{"respond", `[{name: a, when: Method == "MESSAGE", actions: [{kind: respond, code: 403, reason: No}]}]`, false, contract.Respond, 403, "", false, nil, nil},
		{"redirect", `[{name: a, when: "true", actions: [{kind: redirect, target: "sip:vm@example.com"}]}]`, false, contract.Redirect, 302, "<sip:vm@example.com>", false, nil, nil},
		{"route is a next hop", `[{name: a, when: "true", actions: [{kind: add-header, header: X-A, value: "1"}, {kind: route, target: "sip:gw.example.com;transport=tcp"}]}]`, false, contract.Proxy, 0, "sip:gw.example.com;transport=tcp", true, []string{"X-A"}, nil},
		{"headers in order", `[{name: a, when: "true", actions: [{kind: add-header, header: X-A, value: "1"}, {kind: remove-header, header: X-A}, {kind: add-header, header: X-B, value: "2"}, {kind: remove-header, header: X-C}]}]`, false, contract.Continue, 0, "", false, []string{"X-B"}, []string{"X-A", "X-C"}},
		{"failing rule lets it through", `[{name: a, when: "int(Body) > 0", actions: [{kind: respond, code: 403}]}]`, false, contract.Continue, 0, "", false, nil, nil},
		{"failing rule of a critical entry", `[{name: a, when: "int(Body) > 0", actions: [{kind: respond, code: 403}]}]`, true, contract.Respond, 503, "", false, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Compile([]byte(tt.rules), Config{})
			if err != nil {
				t.Fatal(err)
			}
			app := NewApp("rules1", set, tt.critical, slog.New(slog.DiscardHandler))
			req := sip.NewRequest(sip.MESSAGE, sip.Uri{Scheme: "sip", User: "bob", Host: "example.com"})
			req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "example.com"}, Params: sip.NewParams()})
			req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: "example.com"}, Params: sip.NewParams()})
			req.SetBody([]byte("not a number"))
			v, err := app.Handle(context.Background(), &chain.Request{Request: contract.Request{Req: req, Source: "192.0.2.1:5060", Transport: "UDP"}})
			if err != nil {
				t.Fatal(err)
			}
			if app.Name() != "rules1" || v.Action != tt.action || v.Code != tt.code || v.NextHop != tt.nextHop {
				t.Fatalf("verdict %s %d next hop %v", v.Action, v.Code, v.NextHop)
			}
			got := ""
			if len(v.Targets) > 0 {
				got = v.Targets[0].String()
			} else if len(v.Headers) > 0 && tt.action == contract.Redirect {
				got = v.Headers[0].Value()
			}
			if got != tt.target {
				t.Fatalf("target %q, want %q", got, tt.target)
			}
			var add []string
			for _, h := range v.AddHeaders {
				add = append(add, h.Name())
			}
			if len(add) != len(tt.add) || len(v.RemoveHeaders) != len(tt.remove) {
				t.Fatalf("add %v remove %v, want %v %v", add, v.RemoveHeaders, tt.add, tt.remove)
			}
			for i := range add {
				if add[i] != tt.add[i] {
					t.Fatalf("add %v, want %v", add, tt.add)
				}
			}
			for i := range tt.remove {
				if v.RemoveHeaders[i] != tt.remove[i] {
					t.Fatalf("remove %v, want %v", v.RemoveHeaders, tt.remove)
				}
			}
		})
	}
}
