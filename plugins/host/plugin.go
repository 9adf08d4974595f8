package host

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
	pb "github.com/parley-rtc/parley/plugins/proto/parleyv1"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// plugin supervises one plugin entry of the chain.
type plugin struct {
	h     *Host
	app   state.App
	log   *slog.Logger
	queue chan struct{} // a slot per request in flight
	m     *pluginMetrics

	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	run      *running // nil while down
	restarts int
	nextID   uint64
	// described are the claims of the last start: they stay while the
	// plugin is down, so its addresses get 480 or 503, not another route.
	described []string
	// health is the last Health answer (health.go); it stays while down.
	health *Health
}

// running is one live start of the plugin.
type running struct {
	desc    *pb.Description
	stream  sdk.Stream
	pid     int
	sendMu  sync.Mutex
	pending map[uint64]chan *pb.Verdict // guarded by plugin.mu
	// stuck counts requests given up on in a row with no verdict between
	// (guarded by plugin.mu); at maxStuck the run is ended and restarted.
	stuck int
	end   context.CancelFunc
	// lead, for a stream whose Recv takes a deadline, holds the right to
	// read it (see lead.go); nil for other streams, which one goroutine
	// of runOnce reads.
	lead chan struct{}
	// failed is why a reader ended the run (guarded by plugin.mu).
	failed error
	// watchMu orders the Watchers messages (watchers.go).
	watchMu sync.Mutex
	// token is this start's SIP link credential (link.go).
	token string
	// inst answers Health and Metrics (gather.go).
	inst sdk.Instance
}

// maxStuck is how many requests in a row a plugin may hold past their
// deadline before it is taken for hung and restarted.
const maxStuck = 3

func newPlugin(h *Host, a state.App) *plugin {
	return &plugin{h: h, app: a, log: h.log.With("plugin", a.Name), queue: make(chan struct{}, h.cfg.QueueSize),
		m: newPluginMetrics(h.cfg.Metrics, a.Name)}
}

func (p *plugin) start(ctx context.Context) {
	ctx, p.cancel = context.WithCancel(ctx)
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		p.supervise(ctx)
	}()
}

func (p *plugin) stop() {
	p.cancel()
	<-p.done
}

// supervise starts the plugin and starts it again with exponential
// backoff whenever it dies, until ctx ends. A singleton waits for this
// node to hold its lease.
func (p *plugin) supervise(ctx context.Context) {
	backoff := p.h.cfg.BackoffMin
	for ctx.Err() == nil {
		if p.app.Singleton && !p.h.leaseHeld(p.app.Name) {
			if !sleep(ctx, p.h.cfg.LeaseTTL/6) {
				return
			}
			continue
		}
		began := time.Now()
		err := p.runOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > time.Minute {
			backoff = p.h.cfg.BackoffMin
		}
		p.mu.Lock()
		p.restarts++
		p.mu.Unlock()
		p.m.restarts.Inc()
		p.log.Warn("plugin stopped; restarting", "error", err, "backoff", backoff)
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, p.h.cfg.BackoffMax)
	}
}

// runOnce launches the plugin, configures it and serves its stream until
// the process or the stream dies (or, for a singleton, the lease goes).
func (p *plugin) runOnce(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	proc, err := p.h.cfg.Launch(ctx, p.app)
	if err != nil {
		return fmt.Errorf("host: launch %s: %w", p.app.Name, err)
	}
	defer func() {
		cancel() // the stream ends first, so the plugin can stop gracefully
		proc.Kill()
	}()
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	defer ccancel()
	desc, err := proc.Instance.Describe(cctx)
	if err != nil {
		return err
	}
	token := newLinkToken()
	cfg := &pb.ConfigureRequest{App: p.app.Name, Node: p.h.cfg.Node, Domains: p.h.cfg.Domains, Settings: p.app.Settings}
	if p.h.cfg.Link != "" {
		cfg.LinkAddress, cfg.LinkToken = p.h.cfg.Link, token
	}
	late, err := proc.Instance.Configure(cctx, cfg, p.h.services(p.app, token))
	if err != nil {
		return err
	}
	stream, err := proc.Instance.Exchange(ctx)
	if err != nil {
		return err
	}
	r := &running{desc: desc, stream: stream, pid: proc.PID, pending: make(map[uint64]chan *pb.Verdict), end: cancel, token: token, inst: proc.Instance}
	_, leads := stream.(sdk.DeadlineStream)
	if leads {
		r.lead = make(chan struct{}, 1)
		r.lead <- struct{}{}
	}
	p.mu.Lock()
	claims := append(append([]string(nil), desc.GetClaims()...), late...)
	p.run, p.described = r, claims
	p.mu.Unlock()
	p.m.up.Set(1)
	p.log.Info("plugin running", "version", desc.GetVersion(), "pid", proc.PID, "claims", claims)
	if p.app.Singleton {
		// Renew the lease now, with the claims: the other nodes send the
		// requests for them here from then on (not a renewal period later).
		go p.h.askLease(ctx, p.app.Name, false)
	}
	if desc.GetSingleton() && !p.app.Singleton {
		p.log.Warn("plugin says it is a singleton but its chain entry is not: every node runs it (parleyctl app add --singleton)")
	}
	defer p.down(r)
	go p.watch(ctx, cancel, proc)
	if desc.GetWantsWatchers() {
		go p.tellWatchers(p.h.cfg.State.SubscriptionTargets())
	}
	if leads {
		// The goroutines waiting for verdicts read the stream (lead.go);
		// the run lasts until one of them finds it broken, the process
		// exits or the run is ended.
		<-ctx.Done()
		p.mu.Lock()
		err := r.failed
		p.mu.Unlock()
		if err == nil {
			err = ctx.Err()
		}
		return fmt.Errorf("host: stream of %s: %w", p.app.Name, err)
	}
	for {
		m, err := stream.Recv()
		if err != nil {
			return fmt.Errorf("host: stream of %s: %w", p.app.Name, err)
		}
		p.deliver(r, m)
	}
}

// deliver hands a verdict to the request waiting for it.
func (p *plugin) deliver(r *running, m *pb.PluginMessage) {
	v := m.GetVerdict()
	if v == nil {
		return
	}
	p.mu.Lock()
	ch := r.pending[v.GetId()]
	delete(r.pending, v.GetId())
	r.stuck = 0
	p.mu.Unlock()
	if ch == nil {
		p.log.Debug("verdict for no pending request", "id", v.GetId())
		return
	}
	ch <- v
}

// watch ends a run when the process exits or a singleton loses its lease,
// and asks the plugin's Health now and then: trouble is logged (a plugin
// with a broken outside connection still answers requests); a plugin
// that cannot answer Health at all is taken for hung and restarted.
func (p *plugin) watch(ctx context.Context, cancel context.CancelFunc, proc Process) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	every := p.h.cfg.HealthEvery
	health := time.NewTimer(min(every, time.Second)) // the first soon: parleyctl app status shows it
	defer health.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-proc.Exited:
			cancel()
			return
		case <-t.C:
			if p.app.Singleton && !p.h.leaseHeld(p.app.Name) {
				p.log.Info("singleton lease lost; stopping plugin")
				cancel()
				return
			}
		case <-health.C:
			health.Reset(every)
			hctx, hcancel := context.WithTimeout(ctx, every/2)
			res, err := proc.Instance.Health(hctx)
			hung := hctx.Err() == context.DeadlineExceeded
			hcancel()
			switch {
			case hung:
				p.log.Error("plugin does not answer Health; restarting it")
				cancel()
				return
			case err != nil:
				p.log.Warn("plugin reports trouble", "error", err)
			case !res.GetOk():
				p.log.Warn("plugin reports trouble", "error", res.GetDetail())
			}
			p.noteHealth(res, err)
		}
	}
}

// down marks the plugin down and fails every request it held.
func (p *plugin) down(r *running) {
	p.mu.Lock()
	if p.run == r {
		p.run = nil
	}
	pending := r.pending
	r.pending = nil
	p.mu.Unlock()
	p.m.up.Set(0)
	for _, ch := range pending {
		close(ch)
	}
}

func (p *plugin) claims() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.described
}

// runningClaims are the claims of the run in progress (nil when down).
func (p *plugin) runningClaims() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil {
		return nil
	}
	return p.described
}

func (p *plugin) status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Status{Name: p.app.Name, Restarts: p.restarts, Health: p.health.Copy()}
	if p.run != nil {
		s.Up, s.PID = true, p.run.pid
	}
	return s
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
