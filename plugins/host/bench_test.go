package host

import (
	"context"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// benchHop measures one plugin hop (request out, verdict back, codec both
// ways) and reports its p50 and p99 in microseconds.
func benchHop(b *testing.B, launch Launcher, dir string) {
	st := state.New()
	w := statetest.NewWriter(st)
	app := state.App{Name: "cf", Kind: state.AppPlugin, Command: "contentfilter", Enabled: true,
		Settings: map[string]string{"words": "never-in-the-body"}}
	if _, err := w.Write(context.Background(), state.CmdAppPut, state.AppPut{App: app}); err != nil {
		b.Fatal(err)
	}
	h := New(Config{Node: "n1", State: st, Writer: w, Dir: dir, Launch: launch, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for i := 0; i < 1000; i++ {
		if s, _ := h.Status("cf"); s.Up {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	req := request(b)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := h.Handle(ctx, "cf", req); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	us := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Nanoseconds()) / 1000 }
	b.ReportMetric(us(0.50), "p50-us")
	b.ReportMetric(us(0.99), "p99-us")
}

// BenchmarkPluginHop: the contentfilter binary over go-plugin (gRPC on a
// Unix socket), as parleyd runs it.
func BenchmarkPluginHop(b *testing.B) {
	dir := b.TempDir()
	out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "contentfilter"), "github.com/parley-rtc/parley/plugins/examples/contentfilter").CombinedOutput()
	if err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	benchHop(b, nil, dir)
}

// BenchmarkPluginHopInProcess: the same App in process, for comparison
// (what the protocol and the process boundary cost).
func BenchmarkPluginHopInProcess(b *testing.B) {
	app := sdk.App{Name: "contentfilter", Methods: []string{"MESSAGE"}, Handle: func(_ context.Context, r *sdk.Request) sdk.Verdict {
		if strings.Contains(string(r.Body()), "never-in-the-body") {
			return sdk.Respond(403, "")
		}
		return sdk.Continue()
	}}
	benchHop(b, InProcess(map[string]sdk.App{"contentfilter": app}, quiet), "")
}
