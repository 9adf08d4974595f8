package pipeline

import (
	"errors"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/transport"
)

func TestRouteURIs(t *testing.T) {
	cases := []struct {
		name string
		vals []string
		want []string
	}{
		{"one per header", []string{"<sip:a.example;lr>", "<sip:10.0.0.1:5070;transport=tcp;lr>"}, []string{"a.example", "10.0.0.1"}},
		{"several in one", []string{"<sip:a.example;lr>, <sip:b.example;lr>,<sip:c.example;lr>"}, []string{"a.example", "b.example", "c.example"}},
		{"comma inside brackets", []string{`<sip:a.example;lr;x="1,2">, <sip:b.example;lr>`}, []string{"a.example", "b.example"}},
		{"display name", []string{`"edge" <sip:e.example;lr>`}, []string{"e.example"}},
		{"garbage skipped", []string{"<:::>, <sip:b.example;lr>"}, []string{"b.example"}},
		{"empty", []string{""}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hs []sip.Header
			for _, v := range tc.vals {
				hs = append(hs, sip.NewHeader("Record-Route", v))
			}
			var got []string
			for _, u := range routeURIs(hs) {
				got = append(got, u.Host)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("hosts %v, want %v", got, tc.want)
			}
		})
	}
}

// maskPipeline is a pipeline with just what masking needs: a secret, a
// domain and no listeners.
func maskPipeline(secret string) *Pipeline {
	p := &Pipeline{domains: map[string]bool{"localhost": true}, cfg: Config{Listeners: transport.NewSet(nil), Domains: []string{"localhost"}}}
	s := []byte(secret)
	p.secret.Store(&s)
	return p
}

func TestMaskRoundTrip(t *testing.T) {
	p := maskPipeline("secret-one")
	ct := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "10.0.0.7", Port: 5070}}
	routes := []string{"sip:10.0.0.2:5060;transport=udp;lr", "sip:10.0.0.5:5060;lr"}
	p.maskContact(ct, routes, "localhost", 5061, "TLS")
	if !strings.HasPrefix(ct.Address.User, maskPrefix) || strings.Contains(ct.Address.String(), "10.0.0.7") {
		t.Fatalf("masked contact %s", ct.Address.String())
	}
	masked := ct.Address

	cases := []struct {
		name   string
		user   string
		p      *Pipeline
		wantOK bool
	}{
		{"genuine", masked.User, p, true},
		{"other secret", masked.User, maskPipeline("secret-two"), false},
		{"altered data", maskPrefix + "e30" + masked.User[len(maskPrefix)+3:], p, false},
		{"truncated", masked.User[:len(masked.User)-4], p, false},
		{"not a mask", "alice", p, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := masked
			u.User = tc.user
			req := sip.NewRequest(sip.BYE, u)
			c := &call{req: req}
			err := tc.p.unhide(c)
			if (err == nil) != tc.wantOK || (err != nil && !errors.Is(err, errBadMask)) {
				t.Fatalf("unhide = %v, want it to open: %v", err, tc.wantOK)
			}
			if tc.name != "genuine" {
				return
			}
			if req.Recipient.Host != "10.0.0.7" || req.Recipient.Port != 5070 {
				t.Fatalf("Request-URI %s", req.Recipient.String())
			}
			got := routeURIs(req.GetHeaders("Route"))
			if len(got) != 2 || got[0].Host != "10.0.0.2" || got[1].Host != "10.0.0.5" {
				t.Fatalf("routes %v", req.GetHeaders("Route"))
			}
		})
	}
}

// FuzzRouteURIs: any header value parses without a panic, and every URI
// found has a host (a route without one could not be followed).
func FuzzRouteURIs(f *testing.F) {
	for _, s := range []string{"<sip:a.example;lr>", `<sip:a;lr;x="1,2">, <sip:b;lr>`, "<<>>,,<", `"x" <sip:e;lr>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, u := range routeURIs([]sip.Header{sip.NewHeader("Route", v)}) {
			if u.Host == "" {
				t.Fatalf("route without a host from %q", v)
			}
		}
	})
}
