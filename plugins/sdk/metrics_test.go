package sdk

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
)

// TestMetricsOf: a registry's families travel encoded, and what does not
// fit MaxMetricsBytes is left out.
func TestMetricsOf(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_test_total", Help: "x"}, []string{"k"})
	reg.MustRegister(c)
	c.WithLabelValues("a").Add(2)
	app := &App{Metrics: reg}
	res := metricsOf(app, nil, nil)
	if len(res.GetFamilies()) != 1 {
		t.Fatalf("%d families", len(res.GetFamilies()))
	}
	var mf dto.MetricFamily
	if err := proto.Unmarshal(res.GetFamilies()[0], &mf); err != nil || mf.GetName() != "parley_test_total" || mf.GetMetric()[0].GetCounter().GetValue() != 2 {
		t.Fatalf("%v %v", err, &mf)
	}
	if res := metricsOf(&App{}, nil, nil); len(res.GetFamilies()) != 0 {
		t.Fatal("families without Metrics")
	}

	big := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_test_big", Help: "x"}, []string{"k"})
	small := prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_test_zz", Help: "x"})
	reg2 := prometheus.NewRegistry()
	reg2.MustRegister(big, small)
	label := strings.Repeat("v", 1000)
	for i := range MaxMetricsBytes / 1000 {
		big.WithLabelValues(label + string(rune('a'+i%26)) + strings.Repeat("x", i/26)).Inc()
	}
	var warned sync.Map
	res = metricsOf(&App{Metrics: reg2}, slog.New(slog.NewTextHandler(io.Discard, nil)), &warned)
	size := 0
	for _, b := range res.GetFamilies() {
		size += len(b)
	}
	if size > MaxMetricsBytes || len(res.GetFamilies()) != 0 {
		t.Fatalf("%d families of %d bytes", len(res.GetFamilies()), size)
	}
	if _, ok := warned.Load("size"); !ok {
		t.Error("no warning about the size")
	}
}

func TestBoundDetails(t *testing.T) {
	d := map[string]string{strings.Repeat("k", 100): strings.Repeat("é", 200), "bad": "\xff\xfeok"}
	for i := range 40 {
		d[string(rune('a'+i))] = "v"
	}
	got := boundDetails(d)
	if len(got) != MaxDetails {
		t.Fatalf("%d details", len(got))
	}
	for k, v := range got {
		if len(k) > MaxDetailKey || len(v) > MaxDetailValue || !utf8.ValidString(v) {
			t.Errorf("%q: %q", k, v)
		}
	}
	if got["bad"] != "ok" {
		t.Errorf("bad: %q", got["bad"])
	}
	if boundDetails(nil) != nil {
		t.Error("details from nothing")
	}
}

// oldPlugin is a plugin built before the Metrics call existed.
type oldPlugin struct{ pb.PluginClient }

func (oldPlugin) Metrics(context.Context, *pb.MetricsRequest, ...grpc.CallOption) (*pb.MetricsResponse, error) {
	return nil, status.Error(codes.Unimplemented, "unknown method Metrics")
}

// TestMetricsOfOlderPlugin: no metrics, no error.
func TestMetricsOfOlderPlugin(t *testing.T) {
	res, err := (&grpcInstance{c: oldPlugin{}}).Metrics(context.Background())
	if err != nil || len(res.GetFamilies()) != 0 {
		t.Fatalf("%v, %v", res, err)
	}
}

// TestMetricsAndDetailsOverGRPC: the plugin side serves its registry
// and its Details over gRPC as a binary does, the host side decodes them.
func TestMetricsAndDetailsOverGRPC(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "parley_test_up", Help: "x"})
	reg.MustRegister(g)
	g.Set(1)
	app := &App{Metrics: reg, Details: func(context.Context) map[string]string { return map[string]string{"calls": "3"} }}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pb.RegisterPluginServer(srv, &pluginServer{app: app, log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.Dial(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	inst := &grpcInstance{c: pb.NewPluginClient(conn)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := inst.Metrics(ctx)
	if err != nil || len(res.GetFamilies()) != 1 {
		t.Fatalf("%v, %v", res, err)
	}
	h, err := inst.Health(ctx)
	if err != nil || !h.GetOk() || h.GetDetails()["calls"] != "3" {
		t.Fatalf("%v, %v", h, err)
	}
}
