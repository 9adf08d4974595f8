package staticroute

import (
	"context"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
)

func table(t *testing.T, routes ...state.Route) *Table {
	t.Helper()
	st := state.New()
	w := statetest.NewWriter(st)
	for _, r := range routes {
		if _, err := w.Write(context.Background(), state.CmdRoutePut, state.RoutePut{Route: r}); err != nil {
			t.Fatal(err)
		}
	}
	return New(st)
}

func uri(t *testing.T, s string) sip.Uri {
	t.Helper()
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return u
}

func TestLookup(t *testing.T) {
	tb := table(t,
		state.Route{ID: "us", Match: "phone:+1", NextHop: "sip:10.0.0.1:5060", Priority: 10},
		state.Route{ID: "nyc", Match: "phone:+1212", NextHop: "sip:10.0.0.2:5060", Priority: 10},
		state.Route{ID: "backup", Match: "phone:+1", NextHop: "sip:10.0.0.3:5060", Priority: 20},
		state.Route{ID: "partner", Match: "domain:partner.example", NextHop: "sip:edge.partner.example;transport=tcp"},
		state.Route{ID: "vm", Match: "host:192.0.2.7", NextHop: "sip:192.0.2.7:5070", Trusted: true},
	)
	cases := []struct{ uri, want string }{
		{"tel:+1-212-555-0100", "nyc"},
		{"sip:+13035550100@localhost;user=phone", "us"},
		{"sip:bob@sip.partner.example", "partner"},
		{"sip:bob@partner.example", "partner"},
		{"sip:bob@notpartner.example", ""},
		{"sip:vm@192.0.2.7", "vm"},
		{"tel:+44207", ""},
		{"sip:alice@localhost", ""},
	}
	for _, c := range cases {
		m, ok := tb.Lookup(uri(t, c.uri))
		if got := m.Route.ID; (c.want == "" && ok) || got != c.want {
			t.Errorf("%s: route %q, want %q", c.uri, got, c.want)
		}
	}
	if !tb.TrustedSource("UDP", "192.0.2.7:5070") || tb.TrustedSource("UDP", "192.0.2.7:5071") ||
		!tb.TrustedSource("TCP", "192.0.2.7:40001") || tb.TrustedSource("UDP", "10.0.0.1:5060") || tb.TrustedSource("UDP", "junk") {
		t.Error("trusted source mismatch")
	}
	if !tb.NamesIP("10.0.0.2") || tb.NamesIP("10.9.9.9") {
		t.Error("NamesIP mismatch")
	}
	if d := Dest(uri(t, "sip:gw;maddr=10.1.1.1")); d != "10.1.1.1:5060" {
		t.Errorf("maddr dest %s", d)
	}
}
