package host

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// Documents (sdk.Documents): replicated documents the operator writes
// for plugins through the admin API, today the PSTN adapter's
// configuration (cluster/state pstn.config.put). A plugin long-polls
// with the last version it has; the poll returns as soon as the state
// applies a newer one.

// docWake is closed and replaced whenever a document changes.
type docWake struct {
	mu sync.Mutex
	ch chan struct{}
}

func (w *docWake) wait() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	return w.ch
}

// noteDocs runs on the apply path: it only wakes the waiting polls.
func (w *docWake) noteDocs(ch []state.Change) {
	for _, c := range ch {
		if c.Kind == state.PSTNConfigChanged {
			w.mu.Lock()
			if w.ch != nil {
				close(w.ch)
				w.ch = nil
			}
			w.mu.Unlock()
			return
		}
	}
}

var _ sdk.Documents = (*services)(nil)

// Document answers a plugin's long poll (bounded by wait and ctx; each
// pass of the loop waits for a change, so it runs at most once per
// applied change within the wait).
func (s *services) Document(ctx context.Context, kind, name string, after uint64, wait time.Duration) (sdk.Document, error) {
	if kind != sdk.DocPSTNConfig {
		return sdk.Document{}, fmt.Errorf("host: document kind %q is not served (only %s)", kind, sdk.DocPSTNConfig)
	}
	if err := state.ValidDocName(name); err != nil {
		return sdk.Document{}, fmt.Errorf("host: document: %w", err)
	}
	timer := time.NewTimer(min(max(wait, 0), sdk.MaxDocumentWait))
	defer timer.Stop()
	for {
		woken := s.h.docs.wait() // before the read: a change after it wakes us
		d, ok := s.h.cfg.State.PSTNConfigOf(name)
		if (ok && d.Version > after) || (!ok && after > 0) {
			return sdk.Document{Found: ok, Version: d.Version, Body: d.Doc}, nil
		}
		select {
		case <-woken:
		case <-timer.C:
			return sdk.Document{Found: ok, Version: d.Version, Body: d.Doc}, nil
		case <-ctx.Done():
			return sdk.Document{}, fmt.Errorf("host: document: %w", ctx.Err())
		}
	}
}
