package host

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/parley-rtc/parley/core/metrics"
	"github.com/parley-rtc/parley/plugins/contract"
)

// Plugins' own metrics (sdk.App.Metrics) on the node's /metrics: each
// scrape asks every running plugin over its connection, all at once,
// each within MetricsTimeout, one call per plugin at a time (a plugin
// still answering the last scrape is skipped), so a slow or dead plugin
// costs the scrape at most the timeout and never fails it. What comes
// back is checked (contract.CheckMetricName and CheckMetricLabel, none of
// the node's names, client_golang's consistency checks, at most
// maxPluginSeries series), labelled plugin="<chain entry>" and merged
// after the node's own families.

// maxPluginSeries bounds the series one plugin adds to a scrape.
const maxPluginSeries = 10000

// warnEvery spaces the warnings about one plugin's metrics.
const warnEvery = time.Minute

// Gatherer returns node's metrics followed by those of the running
// plugins. Only node's errors are returned: a plugin's trouble is
// logged and counted (parley_plugin_scrape_errors_total).
func (h *Host) Gatherer(node prometheus.Gatherer) prometheus.Gatherer {
	return &gatherer{h: h, node: node, busy: make(map[string]chan struct{}), warned: make(map[string]time.Time)}
}

type gatherer struct {
	h    *Host
	node prometheus.Gatherer

	mu     sync.Mutex
	busy   map[string]chan struct{} // per plugin: a call in flight
	warned map[string]time.Time     // per plugin: the last warning
}

// scrapeTarget is one running plugin as a scrape sees it.
type scrapeTarget struct {
	p   *plugin
	run *running
	sem chan struct{}
}

// Gather implements prometheus.Gatherer.
func (g *gatherer) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := g.node.Gather()
	targets := g.targets()
	if len(targets) == 0 {
		return mfs, err
	}
	taken := make(map[string]bool, len(mfs))
	for _, mf := range mfs {
		taken[mf.GetName()] = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.h.cfg.MetricsTimeout)
	defer cancel()
	type result struct {
		i   int
		mfs []*dto.MetricFamily
	}
	results := make(chan result, len(targets)) // buffered: a late answer never blocks
	for i, t := range targets {
		go func() { results <- result{i, g.scrape(ctx, t, taken)} }()
	}
	all := prometheus.Gatherers{fixed(mfs)}
	answered := make([]bool, len(targets))
wait:
	for range targets {
		select {
		case r := <-results:
			answered[r.i] = true
			if len(r.mfs) > 0 {
				all = append(all, fixed(r.mfs))
			}
		case <-ctx.Done():
			break wait
		}
	}
	for i, t := range targets {
		if !answered[i] { // its answer, if it comes, is dropped
			g.h.cfg.Metrics.ScrapeErrors.WithLabelValues(t.p.app.Name, metrics.ScrapeTimeout).Inc()
			g.warn(t.p.app.Name, "plugin metrics not gathered", ctx.Err())
		}
	}
	merged, merr := all.Gather()
	if merr != nil { // two plugins disagreeing on a family's help or type
		g.warn("", "plugin metrics left out in the merge", merr)
	}
	return merged, err
}

// targets are the running plugins, each with its call slot.
func (g *gatherer) targets() []scrapeTarget {
	g.h.mu.RLock()
	var out []scrapeTarget
	for _, p := range g.h.plugins {
		p.mu.Lock()
		run := p.run
		p.mu.Unlock()
		if run != nil && run.inst != nil {
			out = append(out, scrapeTarget{p: p, run: run})
		}
	}
	g.h.mu.RUnlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	live := make(map[string]bool, len(out))
	for i := range out {
		name := out[i].p.app.Name
		live[name] = true
		if g.busy[name] == nil {
			g.busy[name] = make(chan struct{}, 1)
		}
		out[i].sem = g.busy[name]
	}
	for name := range g.busy { // entries gone from the chain
		if !live[name] {
			delete(g.busy, name)
			delete(g.warned, name)
		}
	}
	return out
}

// scrape asks one plugin and returns its checked, labelled families; it
// counts what goes wrong, except an answer past the deadline (Gather
// counts that one).
func (g *gatherer) scrape(ctx context.Context, t scrapeTarget, taken map[string]bool) []*dto.MetricFamily {
	name := t.p.app.Name
	errs := t.p.h.cfg.Metrics.ScrapeErrors
	select {
	case t.sem <- struct{}{}:
	default: // the last scrape's call is still out
		errs.WithLabelValues(name, metrics.ScrapeTimeout).Inc()
		return nil
	}
	defer func() { <-t.sem }()
	res, err := t.run.inst.Metrics(ctx)
	if ctx.Err() != nil {
		return nil // Gather counts it unless it came in time
	}
	if err != nil {
		errs.WithLabelValues(name, metrics.ScrapeError).Inc()
		g.warn(name, "plugin metrics not gathered", err)
		return nil
	}
	mfs, problems, over := decodeFamilies(res.GetFamilies(), taken, name)
	if len(problems) > 0 {
		errs.WithLabelValues(name, metrics.ScrapeInvalid).Add(float64(len(problems)))
		g.warn(name, "plugin metrics refused", errors.Join(problems...))
	}
	if over {
		errs.WithLabelValues(name, metrics.ScrapeLimit).Inc()
		g.warn(name, "plugin metrics over the series limit left out", fmt.Errorf("limit %d series", maxPluginSeries))
	}
	return mfs
}

// decodeFamilies turns a plugin's answer into families the node serves:
// each decodable, named by the rules, not one of the node's (taken),
// without a plugin label, consistent by client_golang's checks, and
// labelled plugin=app. Series past maxPluginSeries are left out (over).
func decodeFamilies(raw [][]byte, taken map[string]bool, app string) (mfs []*dto.MetricFamily, problems []error, over bool) {
	series := 0
	var ok []*dto.MetricFamily
	for _, b := range raw {
		mf := new(dto.MetricFamily)
		if err := proto.Unmarshal(b, mf); err != nil {
			problems = append(problems, fmt.Errorf("undecodable family: %w", err))
			continue
		}
		if err := contract.CheckMetricName(mf.GetName()); err != nil {
			problems = append(problems, err)
			continue
		}
		if taken[mf.GetName()] {
			problems = append(problems, fmt.Errorf("metric name %q is the node's", mf.GetName()))
			continue
		}
		if err := checkLabels(mf); err != nil {
			problems = append(problems, err)
			continue
		}
		if series+len(mf.GetMetric()) > maxPluginSeries {
			over = true
			break
		}
		series += len(mf.GetMetric())
		ok = append(ok, mf)
	}
	// client_golang's checks: types, duplicate series, label values.
	checked, err := prometheus.Gatherers{fixed(ok)}.Gather()
	if err != nil {
		var multi prometheus.MultiError
		if errors.As(err, &multi) {
			problems = append(problems, multi...)
		} else {
			problems = append(problems, err)
		}
	}
	for _, mf := range checked {
		for _, m := range mf.GetMetric() {
			m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(contract.PluginLabel), Value: proto.String(app)})
			sort.Slice(m.Label, func(i, j int) bool { return m.Label[i].GetName() < m.Label[j].GetName() })
		}
	}
	return checked, problems, over
}

func checkLabels(mf *dto.MetricFamily) error {
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if err := contract.CheckMetricLabel(l.GetName()); err != nil {
				return fmt.Errorf("metric %q: %w", mf.GetName(), err)
			}
		}
	}
	return nil
}

// warn logs trouble with a plugin's metrics at most once per warnEvery.
func (g *gatherer) warn(plugin, msg string, err error) {
	g.mu.Lock()
	last, seen := g.warned[plugin]
	now := time.Now()
	if seen && now.Sub(last) < warnEvery {
		g.mu.Unlock()
		return
	}
	g.warned[plugin] = now
	g.mu.Unlock()
	log := g.h.log
	if plugin != "" {
		log = log.With("plugin", plugin)
	}
	log.Warn(msg, "error", err)
}

// fixed is a Gatherer of families already gathered.
type fixed []*dto.MetricFamily

func (f fixed) Gather() ([]*dto.MetricFamily, error) { return f, nil }
