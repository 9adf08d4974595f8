package webrtc

import (
	"context"
	"testing"

	"github.com/parley-rtc/parley/plugins/contract"
)

// TestMetrics: the registry reads the gateway's Stats, under names the
// node accepts; Details carries the active calls.
func TestMetrics(t *testing.T) {
	g := NewGateway(nil)
	g.stats.Calls.Add(3)
	g.stats.ToPhone.Add(5)
	g.stats.ToBrowserBytes.Add(172)
	g.stats.Failures.DTLS.Add(1)
	mfs, err := g.App().Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if err := contract.CheckMetricName(mf.GetName()); err != nil {
			t.Error(err)
		}
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "/" + l.GetValue()
			}
			got[key] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	for k, want := range map[string]float64{
		"parley_webrtc_calls_total": 3, "parley_webrtc_calls_active": 0, "parley_webrtc_packets_total/to_phone": 5,
		"parley_webrtc_packets_total/to_browser": 0, "parley_webrtc_bytes_total/to_browser": 172,
		"parley_webrtc_failures_total/dtls": 1, "parley_webrtc_failures_total/ice": 0,
	} {
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", k, v, ok, want)
		}
	}
	if d := g.details(context.Background()); d["calls"] != "0" || d["calls_total"] != "3" {
		t.Errorf("details %v", d)
	}
}
