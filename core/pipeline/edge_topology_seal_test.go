package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	dto "github.com/prometheus/client_model/go"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/metrics"
	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/transport"
	"github.com/parley-rtc/parley/internal/testport"
)

// edgePipeline is a topology-hiding edge with one UDP listener on
// 127.0.0.1 (so our own Record-Route entries are recognised) and metrics.
func edgePipeline(t *testing.T, secret string) (*Pipeline, *transport.Listener) {
	t.Helper()
	ports, err := testport.Free(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ls := transport.NewSet(slog.New(slog.DiscardHandler))
	if err := ls.Open(ctx, srv, []transport.Spec{{Scheme: "udp", Host: "127.0.0.1", Port: ports[0]}}, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ls.Close(); cancel(); _ = ua.Close() })
	p := maskPipeline(secret)
	p.cfg.Listeners, p.cfg.Role, p.cfg.TopologyHiding = ls, state.RoleEdge, true
	p.cfg.Metrics = metrics.New(func() float64 { return 0 }, func() float64 { return 0 }, func() float64 { return 0 })
	p.log = slog.New(slog.DiscardHandler)
	return p, ls.All()[0]
}

// outwardInvite is an INVITE from inside as the edge forwards it to a
// partner, before hiding: the edge's Via and Record-Route on top.
func outwardInvite(t *testing.T, edge *transport.Listener) *sip.Request {
	t.Helper()
	req := sip.NewRequest(sip.INVITE, sipURIOf(t, "sip:carol@kam.example"))
	for _, v := range []string{
		fmt.Sprintf("SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKedge1", edge.Port),
		"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKhome1;received=10.0.0.5",
		"SIP/2.0/TCP 10.0.0.7:5070;branch=z9hG4bKalice1;rport=5070",
	} {
		h, ok := parseVia(v)
		if !ok {
			t.Fatalf("via %q", v)
		}
		req.AppendHeader(h)
	}
	req.AppendHeader(sip.NewHeader("Record-Route", fmt.Sprintf("<sip:127.0.0.1:%d;transport=udp;lr;tok=abc>", edge.Port)))
	req.AppendHeader(sip.NewHeader("Record-Route", "<sip:10.0.0.5:5060;transport=udp;lr;tok=def>"))
	req.AppendHeader(&sip.FromHeader{Address: sipURIOf(t, "sip:alice@localhost"), Params: sip.HeaderParams{{K: "tag", V: "a1"}}})
	req.AppendHeader(&sip.ToHeader{Address: sipURIOf(t, "sip:carol@kam.example")})
	cid := sip.CallIDHeader("hide-1@test")
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	req.AppendHeader(&sip.ContactHeader{Address: sipURIOf(t, "sip:alice@10.0.0.7:5070;transport=tcp")})
	return req
}

func sipURIOf(t *testing.T, s string) sip.Uri {
	t.Helper()
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// partner2xx is the partner's 200 to fwd, retransmitted after the edge's
// client transaction ended: relayed by the proxy statelessly, so it has
// only what the message itself carries; the proxy removed our Via.
func partner2xx(fwd *sip.Request) (ours *sip.ViaHeader, relay *sip.Response) {
	res := sip.NewResponseFromRequest(fwd, 200, "OK", nil)
	res.PrependHeader(sip.NewHeader("Record-Route", "<sip:sip.kam.example;lr>"))
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "carol", Host: "127.0.0.3", Port: 5070}})
	ours = res.Via().Clone()
	relay = res.Clone()
	relay.RemoveHeader("Via")
	return ours, relay
}

func headerValues(hs []sip.Header) []string {
	out := make([]string, 0, len(hs))
	for _, h := range hs {
		out = append(out, h.Value())
	}
	return out
}

// TestLate2xxGetsHiddenViasBack: the Vias and Record-Route entries an edge
// hides on the way out travel sealed in its own Via and Record-Route, so a
// 2xx retransmitted after the client transaction ended is relayed with
// the same Via restoration; what does not open is dropped and counted.
func TestLate2xxGetsHiddenViasBack(t *testing.T) {
	p, edge := edgePipeline(t, "secret-one")
	req := outwardInvite(t, edge)
	wantVias := headerValues(req.GetHeaders("Via"))[1:]
	fwd := req.Clone()
	p.hideRequest(fwd, nil)
	if out := fwd.String(); strings.Contains(out, "10.0.0.") {
		t.Fatalf("the partner sees the inside:\n%s", out)
	}
	if n := len(fwd.GetHeaders("Via")); n != 1 || !fwd.Via().Params.Has(viasParam) {
		t.Fatalf("Vias out: %v", headerValues(fwd.GetHeaders("Via")))
	}

	ours, relay := partner2xx(fwd)
	if !p.RewriteStateless(ours, relay) {
		t.Fatal("genuine 2xx dropped")
	}
	if got := headerValues(relay.GetHeaders("Via")); strings.Join(got, "|") != strings.Join(wantVias, "|") {
		t.Fatalf("Vias back %v, want %v", got, wantVias)
	}
	rrs := routeURIs(relay.GetHeaders("Record-Route"))
	if len(rrs) != 3 || rrs[0].Host != "sip.kam.example" || rrs[1].Port != edge.Port || rrs[2].Host != "10.0.0.5" {
		t.Fatalf("Record-Route back %v", headerValues(relay.GetHeaders("Record-Route")))
	}

	other, _ := edgePipeline(t, "secret-two")
	tampered := ours.Clone()
	v, _ := tampered.Params.Get(viasParam)
	flip := "A" // a seal that already starts with A would not be altered
	if strings.HasPrefix(v, "A") {
		flip = "B"
	}
	tampered.Params.Add(viasParam, flip+v[1:])
	noSeal := ours.Clone()
	noSeal.Params.Remove(viasParam)
	off, _ := edgePipeline(t, "secret-one")
	off.cfg.TopologyHiding = false
	cases := []struct {
		name     string
		p        *Pipeline
		ours     *sip.ViaHeader
		want     bool
		wantVias int
	}{
		{"other secret", other, ours, false, 0},
		{"altered seal", p, tampered, false, 0},
		{"not hidden", p, noSeal, true, 0},
		{"hiding off", off, ours, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, relay := partner2xx(fwd)
			before := droppedCount(t, tc.p, "bad_hidden_via")
			if got := tc.p.RewriteStateless(tc.ours, relay); got != tc.want {
				t.Fatalf("RewriteStateless = %v, want %v", got, tc.want)
			}
			if n := len(relay.GetHeaders("Via")); n != tc.wantVias {
				t.Fatalf("%d Vias, want %d", n, tc.wantVias)
			}
			after := droppedCount(t, tc.p, "bad_hidden_via")
			if counted := after > before; counted == tc.want {
				t.Fatalf("counted %v for a relay that went %v", counted, tc.want)
			}
		})
	}
}

func droppedCount(t *testing.T, p *Pipeline, reason string) float64 {
	t.Helper()
	var m dto.Metric
	if err := p.cfg.Metrics.Dropped.WithLabelValues(reason).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// byeTo is a partner's in-dialog request to target, with route as its
// Route (our Record-Route as the partner keeps it), or none.
func byeTo(t *testing.T, target sip.Uri, route *sip.Uri) *call {
	t.Helper()
	req := sip.NewRequest(sip.BYE, target)
	if route != nil {
		req.AppendHeader(&sip.RouteHeader{Address: *route})
	}
	cid := sip.CallIDHeader("hide-1@test")
	req.AppendHeader(&cid)
	return &call{req: req}
}

// TestReinviteFromInsideKeepsHiddenRoutes: a re-INVITE from inside with a
// new Contact is masked so that the partner's requests to that Contact
// still pass the dialog's hidden route set, whichever side started the
// dialog.
func TestReinviteFromInsideKeepsHiddenRoutes(t *testing.T) {
	p, edge := edgePipeline(t, "secret-one")
	reinvite := func(route sip.Uri) *sip.Request {
		req := sip.NewRequest(sip.INVITE, sipURIOf(t, "sip:carol@127.0.0.3:5070"))
		h, _ := parseVia(fmt.Sprintf("SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKedge2", edge.Port))
		req.AppendHeader(h)
		h, _ = parseVia("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKhome2")
		req.AppendHeader(h)
		req.AppendHeader(&sip.RouteHeader{Address: route})
		cid := sip.CallIDHeader("hide-1@test")
		req.AppendHeader(&cid)
		req.AppendHeader(&sip.CSeqHeader{SeqNo: 2, MethodName: sip.INVITE})
		req.AppendHeader(&sip.ContactHeader{Address: sipURIOf(t, "sip:alice@10.0.0.9:5080")})
		return req
	}
	// maskReinvite runs a re-INVITE from inside through the edge and
	// returns the Contact the partner sees.
	maskReinvite := func(route sip.Uri) sip.Uri {
		c := &call{req: reinvite(route)}
		c.routes = p.consumeOwnRoutes(c.req, consumed{})
		var tg proxy.Target
		p.hide(c, &tg)
		if tg.Rewrite == nil {
			t.Fatal("an outward re-INVITE is not hidden")
		}
		fwd := c.req.Clone()
		tg.Rewrite(fwd)
		if strings.Contains(fwd.String(), "10.0.0.") {
			t.Fatalf("the partner sees the inside:\n%s", fwd.String())
		}
		return fwd.Contact().Address
	}
	// unhideRoutes is where the partner's request to target goes.
	unhideRoutes := func(target sip.Uri, route *sip.Uri) (string, []string) {
		c := byeTo(t, target, route)
		c.routes = p.consumeOwnRoutes(c.req, consumed{})
		if err := p.unhide(c); err != nil {
			t.Fatalf("mask does not open: %v", err)
		}
		var hosts []string
		for _, u := range routeURIs(c.req.GetHeaders("Route")) {
			hosts = append(hosts, u.Host)
		}
		return c.req.Recipient.Host, hosts
	}

	t.Run("dialog started inside", func(t *testing.T) {
		fwd := outwardInvite(t, edge)
		p.hideRequest(fwd, nil)
		outer := routeURIs(fwd.GetHeaders("Record-Route"))[0]
		if !outer.UriParams.Has(routesParam) {
			t.Fatalf("outer Record-Route %s carries no hidden route set", outer.String())
		}
		// The caller's route set has our outer entry as the partner echoed it.
		masked := maskReinvite(outer)
		host, routes := unhideRoutes(masked, nil)
		if host != "10.0.0.9" || strings.Join(routes, ",") != "10.0.0.5" {
			t.Fatalf("partner's request to the new Contact goes to %s via %v, want 10.0.0.9 via [10.0.0.5]", host, routes)
		}
	})

	t.Run("dialog started by the partner", func(t *testing.T) {
		edgeRR := fmt.Sprintf("<sip:127.0.0.1:%d;transport=udp;lr;tok=abc>", edge.Port)
		res := sip.NewResponse(200, "OK")
		for _, rr := range []string{"<sip:10.0.0.5:5060;transport=udp;lr;tok=def>", edgeRR, "<sip:sip.kam.example;lr>"} {
			res.AppendHeader(sip.NewHeader("Record-Route", rr))
		}
		res.AppendHeader(&sip.ContactHeader{Address: sipURIOf(t, "sip:bob@10.0.0.8:5090")})
		stateless := res.Clone()
		if err := p.hideResponse(res, edge); err != nil {
			t.Fatalf("response not hidden: %v", err)
		}
		rrs := routeURIs(res.GetHeaders("Record-Route"))
		if len(rrs) != 2 || !rrs[0].UriParams.Has(routesParam) || strings.Contains(res.String(), "10.0.0.") {
			t.Fatalf("partner's 200:\n%s", res.String())
		}
		// The callee's route set names us without the sealed set (it came
		// from the request), so its re-INVITE's Contact mask has no routes;
		// the partner's Route through us brings them.
		masked := maskReinvite(sipURIOf(t, strings.Trim(edgeRR, "<>")))
		host, routes := unhideRoutes(masked, &rrs[0])
		if host != "10.0.0.9" || strings.Join(routes, ",") != "10.0.0.5" {
			t.Fatalf("partner's request to the new Contact goes to %s via %v, want 10.0.0.9 via [10.0.0.5]", host, routes)
		}
		// A late 2xx to the partner, relayed without the transaction
		// (our inward Via marked it), is hidden the same way.
		ours, _ := parseVia(fmt.Sprintf("SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKin;%s", edge.Port, partnerParam))
		if !p.RewriteStateless(ours, stateless) || strings.Contains(stateless.String(), "10.0.0.") {
			t.Fatalf("late 2xx to the partner:\n%s", stateless.String())
		}
	})
}
