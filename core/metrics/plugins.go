package metrics

import "github.com/prometheus/client_golang/prometheus"

// Plugins are the metrics of the application chain's plugins, labelled
// by chain entry (plugins/host keeps them).
type Plugins struct {
	Requests *prometheus.CounterVec   // by plugin: requests handed to it
	Verdicts *prometheus.CounterVec   // by plugin and verdict
	Failures *prometheus.CounterVec   // by plugin and reason
	Restarts *prometheus.CounterVec   // by plugin
	Up       *prometheus.GaugeVec     // by plugin: 1 while its process serves
	Hop      *prometheus.HistogramVec // by plugin: request out to verdict in, seconds
	// ScrapeErrors counts what went wrong gathering a plugin's own
	// metrics for /metrics, by plugin and reason.
	ScrapeErrors *prometheus.CounterVec
}

// Reasons of Plugins.ScrapeErrors.
const (
	ScrapeTimeout = "timeout" // no answer within the scrape deadline (or one still running)
	ScrapeError   = "error"   // the call failed
	ScrapeInvalid = "invalid" // families refused: names, labels, undecodable, inconsistent
	ScrapeLimit   = "limit"   // series past the per-plugin limit left out
)

// Failure reasons of Plugins.Failures.
const (
	PluginTimeout   = "timeout"    // held past the transaction lifetime
	PluginQueueFull = "queue_full" // its queue was full: 503
	PluginGarbage   = "garbage"    // an unusable verdict
	PluginDown      = "down"       // not running, or died holding the request
)

// NewPlugins makes the plugin metrics and registers them on r (nil: not
// registered, for tests and hosts without a registry).
func NewPlugins(r prometheus.Registerer) *Plugins {
	m := &Plugins{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_plugin_requests_total", Help: "Requests handed to a plugin, by plugin.",
		}, []string{"plugin"}),
		Verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_plugin_verdicts_total", Help: "Plugin verdicts, by plugin and verdict.",
		}, []string{"plugin", "verdict"}),
		Failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_plugin_failures_total", Help: "Requests a plugin gave no usable verdict for, by plugin and reason.",
		}, []string{"plugin", "reason"}),
		Restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_plugin_restarts_total", Help: "Plugin restarts after a crash, a hang or a broken stream, by plugin.",
		}, []string{"plugin"}),
		Up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "parley_plugin_up", Help: "1 while a plugin's process runs and takes requests on this node, by plugin.",
		}, []string{"plugin"}),
		Hop: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "parley_plugin_hop_seconds", Help: "Time from a request handed to a plugin to its verdict, by plugin.",
			Buckets: prometheus.ExponentialBuckets(25e-6, 2, 14), // 25 us to 0.2 s
		}, []string{"plugin"}),
		ScrapeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_plugin_scrape_errors_total", Help: "Trouble gathering a plugin's own metrics for /metrics, by plugin and reason.",
		}, []string{"plugin", "reason"}),
	}
	if r != nil {
		r.MustRegister(m.Requests, m.Verdicts, m.Failures, m.Restarts, m.Up, m.Hop, m.ScrapeErrors)
	}
	return m
}

// Forget removes a plugin's series (its chain entry is gone).
func (m *Plugins) Forget(plugin string) {
	m.Up.DeleteLabelValues(plugin)
}
