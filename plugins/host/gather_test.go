package host

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/parley-rtc/parley/core/metrics"
	"github.com/parley-rtc/parley/plugins/sdk"
)

func pass(context.Context, *sdk.Request) sdk.Verdict { return sdk.Continue() }

// family finds name among mfs.
func family(mfs []*dto.MetricFamily, name string) *dto.MetricFamily {
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

func labels(m *dto.Metric) string {
	var b strings.Builder
	for _, l := range m.GetLabel() {
		b.WriteString(l.GetName() + "=" + l.GetValue() + ";")
	}
	return b.String()
}

// TestGatherPluginMetrics: a plugin's counters, gauges and histograms
// come out of the node's gatherer with plugin="<entry>", after the
// node's own; names the rules refuse and the node's own names are left
// out and counted.
func TestGatherPluginMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	stanzas := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_test_stanzas_total", Help: "Stanzas."}, []string{"dir"})
	up := prometheus.NewGauge(prometheus.GaugeOpts{Name: "parley_test_link_up", Help: "Link."})
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parley_test_seconds", Help: "Time.", Buckets: []float64{0.1, 1}})
	labelled := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_test_labelled", Help: "Own plugin label."}, []string{"plugin"})
	labelled.WithLabelValues("x").Inc()
	reg.MustRegister(stanzas, up, hist,
		prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_users", Help: "The node's."}),
		prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_plugin_requests_total", Help: "Reserved."}),
		prometheus.NewCounter(prometheus.CounterOpts{Name: "test_unprefixed", Help: "No prefix."}),
		labelled)
	stanzas.WithLabelValues("in").Add(3)
	up.Set(1)
	hist.Observe(0.5)
	apps := map[string]sdk.App{"gw": {Name: "gw", Handle: pass, Metrics: reg}, "plain": {Name: "plain", Handle: pass}}
	pm := metrics.NewPlugins(nil)
	f := start(t, Config{Metrics: pm}, apps, plug("gw"), plug("plain"))
	f.waitUp(t, "gw")
	f.waitUp(t, "plain")

	node := prometheus.NewRegistry()
	node.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_users", Help: "User accounts."}, func() float64 { return 7 }))
	mfs, err := f.h.Gatherer(node).Gather()
	if err != nil {
		t.Fatal(err)
	}
	if mf := family(mfs, "parley_users"); mf == nil || len(mf.GetMetric()) != 1 || mf.GetMetric()[0].GetGauge().GetValue() != 7 {
		t.Fatalf("the node's parley_users: %v", mf)
	}
	mf := family(mfs, "parley_test_stanzas_total")
	if mf == nil || len(mf.GetMetric()) != 1 || labels(mf.GetMetric()[0]) != "dir=in;plugin=gw;" || mf.GetMetric()[0].GetCounter().GetValue() != 3 {
		t.Fatalf("stanzas: %v", mf)
	}
	if mf := family(mfs, "parley_test_link_up"); mf == nil || labels(mf.GetMetric()[0]) != "plugin=gw;" {
		t.Fatalf("gauge: %v", mf)
	}
	if mf := family(mfs, "parley_test_seconds"); mf == nil || mf.GetMetric()[0].GetHistogram().GetSampleCount() != 1 {
		t.Fatalf("histogram: %v", mf)
	}
	for _, refused := range []string{"parley_plugin_requests_total", "test_unprefixed", "parley_test_labelled"} {
		if family(mfs, refused) != nil {
			t.Errorf("%s served", refused)
		}
	}
	if n := testutil.ToFloat64(pm.ScrapeErrors.WithLabelValues("gw", metrics.ScrapeInvalid)); n != 4 {
		t.Errorf("invalid families counted %v, want 4", n)
	}
	// The text exposition carries them too.
	var b strings.Builder
	for _, mf := range mfs {
		b.WriteString(mf.String())
	}
	if strings.Contains(b.String(), `"plain"`) {
		t.Error("a plugin without metrics added series")
	}
}

// TestGatherSlowPlugin: a plugin that does not answer costs a scrape at
// most MetricsTimeout, and a scrape while its last call is still out
// does not wait at all.
func TestGatherSlowPlugin(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	slow := gathererFunc(func() ([]*dto.MetricFamily, error) { <-block; return nil, nil })
	apps := map[string]sdk.App{"slow": {Name: "slow", Handle: pass, Metrics: slow}}
	pm := metrics.NewPlugins(nil)
	f := start(t, Config{Metrics: pm, MetricsTimeout: 100 * time.Millisecond}, apps, plug("slow"))
	f.waitUp(t, "slow")
	node := prometheus.NewRegistry()
	node.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_node_total", Help: "x"}))
	g := f.h.Gatherer(node)
	for i := range 2 {
		began := time.Now()
		mfs, err := g.Gather()
		if took := time.Since(began); err != nil || took > time.Second || family(mfs, "parley_node_total") == nil {
			t.Fatalf("scrape %d: %v after %v, %d families", i, err, took, len(mfs))
		}
	}
	if n := testutil.ToFloat64(pm.ScrapeErrors.WithLabelValues("slow", metrics.ScrapeTimeout)); n != 2 {
		t.Errorf("timeouts counted %v, want 2", n)
	}
}

type gathererFunc func() ([]*dto.MetricFamily, error)

func (f gathererFunc) Gather() ([]*dto.MetricFamily, error) { return f() }

// TestGatherFailingPlugin: a plugin whose gathering fails outright
// leaves the scrape whole.
func TestGatherFailingPlugin(t *testing.T) {
	bad := gathererFunc(func() ([]*dto.MetricFamily, error) { return nil, errors.New("broken collector") })
	apps := map[string]sdk.App{"bad": {Name: "bad", Handle: pass, Metrics: bad}}
	f := start(t, Config{}, apps, plug("bad"))
	f.waitUp(t, "bad")
	node := prometheus.NewRegistry()
	node.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_node_total", Help: "x"}))
	mfs, err := f.h.Gatherer(node).Gather()
	if err != nil || len(mfs) != 1 {
		t.Fatalf("%v, %d families", err, len(mfs))
	}
}

// TestDecodeFamiliesLimits: garbage, inconsistent families and series
// past maxPluginSeries are left out.
func TestDecodeFamiliesLimits(t *testing.T) {
	counter := dto.MetricType_COUNTER
	big := &dto.MetricFamily{Name: proto.String("parley_test_big"), Help: proto.String("x"), Type: &counter}
	for i := range maxPluginSeries + 1 {
		big.Metric = append(big.Metric, &dto.Metric{Label: []*dto.LabelPair{{Name: proto.String("i"), Value: proto.String(string(rune('a'+i%26)) + strings.Repeat("x", i/26))}},
			Counter: &dto.Counter{Value: proto.Float64(1)}})
	}
	small := &dto.MetricFamily{Name: proto.String("parley_test_small"), Help: proto.String("x"), Type: &counter,
		Metric: []*dto.Metric{{Counter: &dto.Counter{Value: proto.Float64(2)}}}}
	wrongType := &dto.MetricFamily{Name: proto.String("parley_test_wrong"), Help: proto.String("x"), Type: &counter,
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(2)}}}}
	dup := &dto.MetricFamily{Name: proto.String("parley_test_dup"), Help: proto.String("x"), Type: &counter,
		Metric: []*dto.Metric{{Counter: &dto.Counter{Value: proto.Float64(1)}}, {Counter: &dto.Counter{Value: proto.Float64(2)}}}}
	var raw [][]byte
	for _, mf := range []*dto.MetricFamily{small, wrongType, dup, nil, big} {
		if mf == nil {
			raw = append(raw, []byte{0xff, 0xff, 0xff})
			continue
		}
		b, err := proto.Marshal(mf)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
	}
	mfs, problems, over := decodeFamilies(raw, nil, "p")
	if !over {
		t.Error("the series limit was not applied")
	}
	if len(mfs) != 2 || mfs[0].GetName() != "parley_test_dup" || len(mfs[0].GetMetric()) != 1 || mfs[1].GetName() != "parley_test_small" {
		t.Fatalf("kept %v", mfs)
	}
	if len(problems) != 3 { // undecodable, wrong type, duplicate series
		t.Errorf("problems %v", problems)
	}
}
