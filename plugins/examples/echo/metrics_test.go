package echo

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/parley-rtc/parley/plugins/contract"
)

// TestMetrics: the registry reads the echo's Stats under names the node
// accepts; Details carries the calls.
func TestMetrics(t *testing.T) {
	s := NewService(slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.stats.Calls.Add(2)
	s.stats.RTPOut.Add(50)
	s.stats.Active.Add(1)
	mfs, err := s.App().Metrics.Gather()
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
		"parley_echo_calls_total/answered": 2, "parley_echo_calls_active": 1,
		"parley_echo_packets_total/out/rtp": 50, "parley_echo_packets_total/in/rtp": 0,
	} {
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", k, v, ok, want)
		}
	}
	if d := s.details(context.Background()); d["calls"] != "1" || d["calls_total"] != "2" {
		t.Errorf("details %v", d)
	}
}
