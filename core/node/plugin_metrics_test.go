package node

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/core/config"
	"github.com/parley-rtc/parley/plugins/host"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// TestNodeServesPluginMetrics: an in-process plugin's own metrics are on
// the node's /metrics with plugin="<chain entry>", beside the node's,
// and its Health details are in GET /v1/apps (parleyctl app status).
func TestNodeServesPluginMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	widgets := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_meter_widgets_total", Help: "Widgets."}, []string{"kind"})
	reg.MustRegister(widgets)
	widgets.WithLabelValues("a").Add(2)
	app := sdk.App{Name: "meter", Handle: func(context.Context, *sdk.Request) sdk.Verdict { return sdk.Continue() }, Metrics: reg,
		Details: func(context.Context) map[string]string { return map[string]string{"connected": "true"} }}
	n := buildNode(t, nil)
	n.opts = []Option{WithPluginLauncher(host.InProcess(map[string]sdk.App{"meter": app}, n.log))}
	n.start(t)
	n.adminCall(t, "POST", "/v1/apps", map[string]any{"name": "m1", "kind": "plugin", "command": "meter", "position": 50, "enabled": true}, 201)

	want := `parley_meter_widgets_total{kind="a",plugin="m1"} 2`
	var text string
	for range 100 {
		if text = n.metrics(t); strings.Contains(text, want) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(text, want) || !strings.Contains(text, "parley_users ") || !strings.Contains(text, `parley_plugin_up{plugin="m1"} 1`) {
		t.Fatalf("/metrics without %s or the node's own:\n%s", want, text)
	}

	var details map[string]string
	for range 100 {
		req, _ := http.NewRequest("GET", n.admin+"/v1/apps", nil)
		req.Header.Set("Authorization", "Bearer test-token")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list []api.AppStatus
		err = json.NewDecoder(res.Body).Decode(&list)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range list {
			if a.Name == "m1" && a.Process != nil && a.Process.Health != nil {
				details = a.Process.Health.Details
			}
		}
		if details != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if details["connected"] != "true" {
		t.Fatalf("health details %v", details)
	}
}

// TestNodeServesBinaryPluginMetrics: the echo built as a binary, run
// over go-plugin: its metrics reach /metrics through the Metrics call.
func TestNodeServesBinaryPluginMetrics(t *testing.T) {
	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "echo"), "github.com/parley-rtc/parley/plugins/examples/echo/cmd/echo").CombinedOutput()
	if err != nil {
		t.Fatalf("build echo: %v\n%s", err, out)
	}
	n := startNodeWith(t, func(c *config.Config) { c.PluginDir = dir })
	n.adminCall(t, "POST", "/v1/apps", map[string]any{"name": "e1", "kind": "plugin", "command": "echo", "position": 40,
		"enabled": true, "methods": []string{"INVITE", "OPTIONS"}}, 201)
	want := `parley_echo_calls_active{plugin="e1"} 0`
	var text string
	for range 200 {
		if text = n.metrics(t); strings.Contains(text, want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("/metrics without %s:\n%s", want, text)
}
