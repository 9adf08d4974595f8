package xmpp

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parley-rtc/parley/plugins/contract"
)

// TestMetrics: stanzas in and out by type, errors by condition in both
// directions, subscription pairs by state and the link gauge, all names
// the node accepts.
func TestMetrics(t *testing.T) {
	g, link, _ := testGateway(t, testConfig(), 404)
	// In: a chat message, answered later with item-not-found (out).
	handle(t, g, `<message xmlns="jabber:component:accept" id="m1" type="chat" `+fromJuliet+`><body>hi</body></message>`)
	if s := link.next(t); !strings.Contains(s, "item-not-found") {
		t.Fatalf("sent %s", s)
	}
	// In: an error with a condition; an iq with an odd type; a presence.
	handle(t, g, `<message xmlns="jabber:component:accept" id="x" type="error" `+fromJuliet+`><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">no</text></error></message>`)
	if out := handle(t, g, `<iq xmlns="jabber:component:accept" id="q" type="bogus" `+fromJuliet+`><query xmlns="jabber:iq:version"/></iq>`); out != "" {
		t.Logf("iq answered %s", out)
	}
	handle(t, g, `<presence xmlns="jabber:component:accept" `+fromJuliet+`/>`)
	m := g.m
	for _, c := range []struct {
		got  float64
		want float64
		what string
	}{
		{testutil.ToFloat64(m.stanzas.WithLabelValues("in", "message", "chat")), 1, "in message chat"},
		{testutil.ToFloat64(m.stanzas.WithLabelValues("in", "message", "error")), 1, "in message error"},
		{testutil.ToFloat64(m.stanzas.WithLabelValues("in", "iq", "other")), 1, "in iq other"},
		{testutil.ToFloat64(m.stanzas.WithLabelValues("in", "presence", "available")), 1, "in presence"},
		{testutil.ToFloat64(m.stanzas.WithLabelValues("out", "message", "error")), 1, "out message error"},
		{testutil.ToFloat64(m.errors.WithLabelValues("out", "item-not-found")), 1, "out item-not-found"},
		{testutil.ToFloat64(m.errors.WithLabelValues("in", "service-unavailable")), 1, "in service-unavailable"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}

	m.pair("sub/a/b", pairState{Out: subYes, In: subPending})
	m.pair("sub/c/d", pairState{Out: subYes})
	m.pair("sub/a/b", pairState{Out: subYes, In: subYes})
	m.pair("sub/c/d", pairState{})
	if n := testutil.ToFloat64(m.subs.WithLabelValues("out", subYes)); n != 1 {
		t.Errorf("out yes %v", n)
	}
	if n := testutil.ToFloat64(m.subs.WithLabelValues("in", subPending)); n != 0 {
		t.Errorf("in pending %v", n)
	}
	if n := testutil.ToFloat64(m.subs.WithLabelValues("in", subYes)); n != 1 {
		t.Errorf("in yes %v", n)
	}

	mfs, err := g.App().Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if err := contract.CheckMetricName(mf.GetName()); err != nil {
			t.Error(err)
		}
		if mf.GetName() == "parley_xmpp_link_up" && mf.GetMetric()[0].GetGauge().GetValue() != 1 {
			t.Error("link_up not 1 with the link up")
		}
	}
	d := g.details(context.Background())
	if d["connected"] != "true" || d["reconnects"] != "0" {
		t.Errorf("details %v", d)
	}
}
