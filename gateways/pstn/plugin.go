package pstn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// The plugin (parley-pstn): a per-node chain entry that routes phone
// calls with the plan compiled from the replicated configuration
// document it watches (the host's Document service). Each new version
// is compiled and swapped in atomically: a call takes the plan once, at
// its start, and keeps it.

// loaded is a compiled document and its version.
type loaded struct {
	plan    *Plan
	version uint64
}

// adapter is one running instance.
type adapter struct {
	log      *slog.Logger
	settings Settings
	domains  []string
	host     sdk.Host
	plan     atomic.Pointer[loaded] // nil: no document (phone calls go on to the core)
}

// New returns the PSTN adapter plugin.
func New() sdk.App {
	a := &adapter{log: slog.Default().With("plugin", "pstn")}
	return sdk.App{
		Name:      "pstn",
		Version:   "0.1",
		Methods:   []string{"INVITE"},
		Configure: a.configure,
		Handle:    a.handle,
		Health:    a.health,
	}
}

// Watch timing: each poll waits at most pollWait; after an error the
// next is delayed (doubling to retryMax).
const (
	pollWait = 30 * time.Second
	retryMin = 500 * time.Millisecond
	retryMax = 30 * time.Second
)

func (a *adapter) configure(ctx context.Context, cfg sdk.Config, h sdk.Host) error {
	s, err := ParseSettings(cfg.Settings)
	if err != nil {
		return err
	}
	a.settings, a.domains, a.host = s, cfg.Domains, h
	docs, ok := h.(sdk.Documents)
	if !ok {
		return fmt.Errorf("pstn: the node serves no configuration documents: %w", sdk.ErrUnsupported)
	}
	// The document in force before the first call; then every new one.
	d, err := docs.Document(ctx, sdk.DocPSTNConfig, s.Config, 0, 0)
	if err != nil {
		return fmt.Errorf("pstn: read configuration %q: %w", s.Config, err)
	}
	a.load(d)
	go a.watch(docs, d.Version)
	return nil
}

// watch long-polls the document for the life of the plugin process:
// every poll is bounded (pollWait), errors back off, and a node that
// stops serving documents (ErrUnsupported) ends it.
func (a *adapter) watch(docs sdk.Documents, version uint64) {
	retry := retryMin
	for {
		ctx, cancel := context.WithTimeout(context.Background(), pollWait+10*time.Second)
		d, err := docs.Document(ctx, sdk.DocPSTNConfig, a.settings.Config, version, pollWait)
		cancel()
		switch {
		case errors.Is(err, sdk.ErrUnsupported):
			a.log.Error("node stopped serving configuration documents; plan frozen", "error", err)
			return
		case err != nil:
			a.log.Warn("configuration watch failed; retrying", "error", err, "in", retry)
			time.Sleep(retry)
			retry = min(retry*2, retryMax)
			continue
		}
		retry = retryMin
		if d.Version != version || !d.Found {
			a.load(d)
			version = d.Version
		}
	}
}

// load compiles a document version and swaps it in; one that does not
// compile (the admin API validated it, but with the node's addresses)
// leaves the plan in force.
func (a *adapter) load(d sdk.Document) {
	if !d.Found {
		if a.plan.Swap(nil) != nil {
			a.log.Warn("configuration removed: phone calls go on to the core", "config", a.settings.Config)
		}
		return
	}
	cfg, err := Decode(bytes.NewReader(d.Body))
	if err == nil {
		var pl *Plan
		if pl, err = Compile(cfg, a.domains...); err == nil {
			a.plan.Store(&loaded{plan: pl, version: d.Version})
			a.log.Info("configuration loaded", "config", a.settings.Config, "version", d.Version,
				"trunks", len(cfg.Trunks), "routes", len(cfg.Routes))
			return
		}
	}
	a.log.Error("configuration version refused; the previous plan stays", "config", a.settings.Config, "version", d.Version, "error", err)
}

// health reports an instance without a plan (calls go on to the core).
func (a *adapter) health(context.Context) error {
	if a.plan.Load() == nil {
		return fmt.Errorf("pstn: no configuration %q loaded", a.settings.Config)
	}
	return nil
}
