package host

import (
	"context"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/metrics"
	"github.com/parley-rtc/parley/core/pipeline"
	"github.com/parley-rtc/parley/plugins/contract"
)

// Config sets up a Host.
type Config struct {
	Node    string
	Domains []string
	// Dir holds the plugin binaries (config plugin-dir).
	Dir string
	// TxLifetime (sip-timeout) bounds how long a plugin may hold a
	// request before the host gives up on it.
	TxLifetime time.Duration
	// QueueSize bounds the requests waiting on one plugin (default 256).
	QueueSize int
	// BackoffMin and BackoffMax bound the wait before a restart
	// (defaults 100 ms and 30 s); the wait doubles per crash and resets
	// once a start lives a minute.
	BackoffMin, BackoffMax time.Duration
	// LeaseTTL is how long a singleton's lease lasts (default 15 s; the
	// node passes its plugin-lease-ttl, 10 s by default); it is renewed
	// every third of that.
	LeaseTTL time.Duration
	// HealthEvery is how often a running plugin's Health is asked
	// (default 10 s); one that does not answer within half of it is
	// restarted.
	HealthEvery time.Duration
	// MetricsTimeout bounds how long a scrape of /metrics waits for the
	// plugins' own metrics (default 1 s; gather.go).
	MetricsTimeout time.Duration
	// Link is the node's SIP link listener, host:port over UDP and TCP,
	// handed to plugins in Configure ("" none).
	Link     string
	State    *state.State
	Writer   state.Writer
	Services Services
	// Launch starts a plugin; nil runs binaries from Dir over go-plugin.
	Launch Launcher
	// Metrics are kept per plugin (core/metrics); nil: kept unregistered.
	Metrics *metrics.Plugins
	// Logger is the node's logger; the host logs as component=plugins,
	// a plugin's own lines as component=plugin plugin=<name>.
	Logger *slog.Logger
}

// Host supervises the plugin apps of the chain.
type Host struct {
	cfg     Config
	log     *slog.Logger
	changed chan struct{}

	mu      sync.RWMutex
	plugins map[string]*plugin

	// Watcher lists to tell plugins (watchers.go).
	wmu    sync.Mutex
	wdirty map[string]bool
	wall   bool
	wkick  chan struct{}

	docs docWake // documents.go
}

var _ pipeline.PluginHost = (*Host)(nil)

// New returns a host; Run starts the plugins.
func New(cfg Config) *Host {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 256
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = 100 * time.Millisecond
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 30 * time.Second
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 15 * time.Second
	}
	if cfg.HealthEvery <= 0 {
		cfg.HealthEvery = 10 * time.Second
	}
	if cfg.MetricsTimeout <= 0 {
		cfg.MetricsTimeout = time.Second
	}
	if cfg.TxLifetime <= 0 {
		cfg.TxLifetime = 32 * time.Second
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewPlugins(nil)
	}
	h := &Host{cfg: cfg, log: cfg.Logger.With("component", "plugins"), changed: make(chan struct{}, 1), plugins: make(map[string]*plugin),
		wdirty: make(map[string]bool), wkick: make(chan struct{}, 1)}
	if h.cfg.Launch == nil {
		h.cfg.Launch = h.execLaunch
	}
	cfg.State.Observe(h.noteWatched)
	cfg.State.Observe(h.docs.noteDocs)
	cfg.State.Observe(func(ch []state.Change) {
		for _, c := range ch {
			if c.Kind == state.AppsChanged {
				select {
				case h.changed <- struct{}{}:
				default:
				}
				return
			}
		}
	})
	return h
}

// Run starts and stops plugins as the chain changes, until ctx ends; then
// it stops them all.
func (h *Host) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		h.leases(ctx)
	}()
	go func() {
		defer wg.Done()
		h.tellWatchers(ctx)
	}()
	h.reconcile(ctx)
	for {
		select {
		case <-ctx.Done():
			h.mu.Lock()
			all := h.plugins
			h.plugins = make(map[string]*plugin)
			h.mu.Unlock()
			for _, p := range all {
				p.stop()
			}
			wg.Wait()
			return
		case <-h.changed:
			h.reconcile(ctx)
		}
	}
}

// reconcile makes the running plugins match the chain's enabled plugin
// entries: new ones start, removed ones stop, changed ones restart.
func (h *Host) reconcile(ctx context.Context) {
	want := make(map[string]state.App)
	for _, a := range h.cfg.State.Apps() {
		if a.Kind == state.AppPlugin && a.Enabled {
			want[a.Name] = a
		}
	}
	// Stopped plugins leave the table first and are waited for outside
	// the lock: requests for the other plugins go on meanwhile.
	var gone []*plugin
	h.mu.Lock()
	for name, p := range h.plugins {
		if a, ok := want[name]; !ok || !sameLaunch(a, p.app) {
			gone = append(gone, p)
			delete(h.plugins, name)
		}
	}
	h.mu.Unlock()
	for _, p := range gone {
		p.stop()
		if _, ok := want[p.app.Name]; !ok {
			h.cfg.Metrics.Forget(p.app.Name)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, a := range want {
		if _, ok := h.plugins[name]; !ok {
			p := newPlugin(h, a)
			h.plugins[name] = p
			p.start(ctx)
		}
	}
}

// sameLaunch: nothing that needs a restart changed (position, flags and
// filters apply without one).
func sameLaunch(a, b state.App) bool {
	return a.Command == b.Command && a.Singleton == b.Singleton && reflect.DeepEqual(a.Args, b.Args) &&
		reflect.DeepEqual(a.Settings, b.Settings) && reflect.DeepEqual(a.Claims, b.Claims)
}

func (h *Host) plugin(name string) *plugin {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.plugins[name]
}

// Handle hands req to plugin app (pipeline.PluginHost).
func (h *Host) Handle(ctx context.Context, app string, req *contract.Request) (contract.Verdict, error) {
	p := h.plugin(app)
	if p == nil {
		return contract.Verdict{}, contract.ErrPluginDown
	}
	return p.handle(ctx, req)
}

// Response gives plugin app the final response to request ticket.
func (h *Host) Response(app string, ticket uint64, res *sip.Response) {
	if p := h.plugin(app); p != nil {
		p.response(ticket, res)
	}
}

// Claims returns the address patterns plugin app claimed when it last
// started (also while it is down). For a singleton whose lease another
// node holds, they are those its instance there claimed, as that node
// wrote them into the lease (its own, if that node wrote none).
func (h *Host) Claims(app string) []string {
	p := h.plugin(app)
	if p == nil {
		return nil
	}
	if p.app.Singleton {
		if claims, ok := h.leasedElsewhere(app); ok && len(claims) > 0 {
			return claims
		}
	}
	return p.claims()
}

// Status is a plugin's state for operators and tests.
type Status struct {
	Name     string
	Up       bool
	PID      int
	Restarts int
	Health   *Health // the last Health answer; nil before the first
}

// Status reports plugin app.
func (h *Host) Status(app string) (Status, bool) {
	p := h.plugin(app)
	if p == nil {
		return Status{}, false
	}
	return p.status(), true
}
