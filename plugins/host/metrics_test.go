package host

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/parley-rtc/parley/core/metrics"
	"github.com/parley-rtc/parley/plugins/contract"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// TestMetrics: every outcome of a hop is counted on its plugin's series.
func TestMetrics(t *testing.T) {
	m := metrics.NewPlugins(nil)
	release := make(chan struct{})
	var entered atomic.Int32
	apps := map[string]sdk.App{
		"cont": {Name: "cont", Handle: func(context.Context, *sdk.Request) sdk.Verdict { return sdk.Continue() }},
		"deny": {Name: "deny", Handle: func(context.Context, *sdk.Request) sdk.Verdict { return sdk.Respond(403, "") }},
		"garbage": {Name: "garbage", Handle: func(context.Context, *sdk.Request) sdk.Verdict {
			return sdk.Continue().AddHeader("Via", "SIP/2.0/UDP evil")
		}},
		"hangs": {Name: "hangs", Handle: func(ctx context.Context, _ *sdk.Request) sdk.Verdict {
			entered.Add(1)
			select {
			case <-ctx.Done():
			case <-release:
			}
			return sdk.Continue()
		}},
	}
	f := start(t, Config{Metrics: m, TxLifetime: 300 * time.Millisecond, QueueSize: 1, BackoffMin: 300 * time.Millisecond},
		apps, plug("cont"), plug("deny"), plug("garbage"), plug("hangs"))
	defer close(release)
	for name := range apps {
		f.waitUp(t, name)
	}
	ctx := context.Background()
	for _, name := range []string{"cont", "cont", "deny", "garbage"} {
		_, _ = f.h.Handle(ctx, name, request(t))
	}
	// One request holds hangs' only queue slot: the next is refused, then
	// the first times out.
	held := make(chan error, 1)
	go func() {
		_, err := f.h.Handle(ctx, "hangs", request(t))
		held <- err
	}()
	for i := 0; i < 500 && entered.Load() == 0; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := f.h.Handle(ctx, "hangs", request(t)); !errors.Is(err, contract.ErrPluginBusy) {
		t.Fatalf("second request to a full queue: %v", err)
	}
	if err := <-held; !errors.Is(err, contract.ErrPluginTimeout) {
		t.Fatalf("held request: %v", err)
	}
	// deny crashes: down while it restarts, then up again.
	f.l.crash("deny")
	for i := 0; i < 100; i++ {
		if s, _ := f.h.Status("deny"); !s.Up {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if _, err := f.h.Handle(ctx, "deny", request(t)); !errors.Is(err, contract.ErrPluginDown) {
		t.Fatalf("crashed plugin: %v", err)
	}
	if up := testutil.ToFloat64(m.Up.WithLabelValues("deny")); up != 0 {
		t.Fatalf("up while down: %v", up)
	}
	f.waitUp(t, "deny")

	tests := []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"requests cont", m.Requests.WithLabelValues("cont"), 2},
		{"requests hangs", m.Requests.WithLabelValues("hangs"), 1},
		{"continue", m.Verdicts.WithLabelValues("cont", "continue"), 2},
		{"respond", m.Verdicts.WithLabelValues("deny", "respond"), 1},
		{"garbage", m.Failures.WithLabelValues("garbage", metrics.PluginGarbage), 1},
		{"timeout", m.Failures.WithLabelValues("hangs", metrics.PluginTimeout), 1},
		{"queue full", m.Failures.WithLabelValues("hangs", metrics.PluginQueueFull), 1},
		{"down", m.Failures.WithLabelValues("deny", metrics.PluginDown), 1},
		{"restarts", m.Restarts.WithLabelValues("deny"), 1},
		{"up again", m.Up.WithLabelValues("deny"), 1},
	}
	for _, tt := range tests {
		if got := testutil.ToFloat64(tt.c); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, got, tt.want)
		}
	}
	var hop dto.Metric
	if err := m.Hop.WithLabelValues("cont").(prometheus.Histogram).Write(&hop); err != nil {
		t.Fatal(err)
	}
	if n := hop.GetHistogram().GetSampleCount(); n != 2 {
		t.Errorf("hop samples of cont = %d, want 2", n)
	}
}
