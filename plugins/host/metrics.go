package host

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-rtc/parley/core/metrics"
	"github.com/parley-rtc/parley/plugins/contract"
)

// pluginMetrics are one plugin's series of metrics.Plugins, resolved
// once so the request path does no label lookups.
type pluginMetrics struct {
	requests prometheus.Counter
	verdicts [contract.Drop + 1]prometheus.Counter // by action
	timeout  prometheus.Counter
	full     prometheus.Counter
	garbage  prometheus.Counter
	down     prometheus.Counter
	restarts prometheus.Counter
	up       prometheus.Gauge
	hop      prometheus.Observer
}

// actionNames label the verdicts.
var actionNames = [...]string{
	contract.Continue: "continue", contract.Respond: "respond", contract.Redirect: "redirect",
	contract.Proxy: "proxy", contract.Fork: "fork", contract.Drop: "drop",
}

func newPluginMetrics(m *metrics.Plugins, name string) *pluginMetrics {
	pm := &pluginMetrics{
		requests: m.Requests.WithLabelValues(name),
		timeout:  m.Failures.WithLabelValues(name, metrics.PluginTimeout),
		full:     m.Failures.WithLabelValues(name, metrics.PluginQueueFull),
		garbage:  m.Failures.WithLabelValues(name, metrics.PluginGarbage),
		down:     m.Failures.WithLabelValues(name, metrics.PluginDown),
		restarts: m.Restarts.WithLabelValues(name),
		up:       m.Up.WithLabelValues(name),
		hop:      m.Hop.WithLabelValues(name),
	}
	for a, n := range actionNames {
		if n != "" {
			pm.verdicts[a] = m.Verdicts.WithLabelValues(name, n)
		}
	}
	return pm
}

// verdict counts a usable verdict and its hop time.
func (pm *pluginMetrics) verdict(a contract.Action, since time.Time) {
	if int(a) < len(pm.verdicts) && pm.verdicts[a] != nil {
		pm.verdicts[a].Inc()
	}
	pm.hop.Observe(time.Since(since).Seconds())
}

// wasDown counts a request the plugin could not take, unless it is a
// singleton leased to another node (there it is not meant to run).
func (p *plugin) wasDown() {
	if !p.app.Singleton || p.h.leaseHeld(p.app.Name) {
		p.m.down.Inc()
	}
}
