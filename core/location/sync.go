package location

import (
	"context"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
)

// expireBatch bounds how many removals go into one command.
const expireBatch = 500

// Run replicates refreshes every interval and sweeps lapsed bindings homed
// on this node, until ctx ends; then it flushes once more.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			s.Flush(fctx)
			cancel()
			return
		case <-t.C:
			s.Flush(ctx)
			s.Sweep(ctx)
		}
	}
}

// Flush replicates the pending refreshes in one command. On failure they
// stay pending for the next attempt.
func (s *Service) Flush(ctx context.Context) {
	s.mu.Lock()
	if len(s.pending) == 0 {
		s.mu.Unlock()
		return
	}
	items := make([]state.Refresh, 0, len(s.pending))
	for _, r := range s.pending {
		items = append(items, r)
	}
	s.pending = make(map[string]state.Refresh)
	s.mu.Unlock()

	if _, err := s.w.Write(ctx, state.CmdBindingRefresh, state.BindingRefresh{Items: items}); err != nil {
		s.log.Warn("registration refreshes not replicated yet", "count", len(items), "error", err)
		s.mu.Lock()
		for _, r := range items {
			k := ukey(r.AOR, r.Key)
			if _, newer := s.pending[k]; !newer {
				s.pending[k] = r
			}
		}
		s.mu.Unlock()
		return
	}
	// The replicated state now carries these; drop overlays not refreshed since.
	s.mu.Lock()
	for _, r := range items {
		k := ukey(r.AOR, r.Key)
		if cur, ok := s.overlay[k]; ok && cur.CSeq == r.CSeq && cur.Expires == r.Expires {
			delete(s.overlay, k)
		}
	}
	s.mu.Unlock()
}

// orphanGrace is how long a binding homed on a member that is down stays
// after its expiry before another node sweeps it: its home would have
// replicated a refresh by then if it were merely slow.
const orphanGrace = 60

// Sweep removes, through the log, bindings homed here whose expiry passed
// (counting local refreshes: a binding whose refresh is not replicated yet
// is kept), and those of members this node sees down that lapsed more
// than orphanGrace seconds ago (nobody else would remove them; several
// nodes doing it is harmless, an expiry only removes what still matches).
func (s *Service) Sweep(ctx context.Context) {
	candidates := s.st.Lapsed(s.node, s.now().Unix())
	for _, m := range s.st.Members() {
		if m.ID != s.node && s.live.Down(m.ID) {
			candidates = append(candidates, s.st.Lapsed(m.ID, s.now().Unix()-orphanGrace)...)
		}
	}
	items := candidates[:0]
	s.mu.Lock()
	for _, ref := range candidates {
		if r, ok := s.overlay[ukey(ref.AOR, ref.Key)]; ok && r.CallID == ref.CallID && r.CSeq >= ref.CSeq && r.Expires > s.now().Unix() {
			continue
		}
		items = append(items, ref)
	}
	s.mu.Unlock()
	for len(items) > 0 {
		n := min(len(items), expireBatch)
		batch := items[:n]
		items = items[n:]
		if _, err := s.w.Write(ctx, state.CmdBindingExpire, state.BindingExpire{Items: batch}); err != nil {
			s.log.Warn("expired bindings not removed yet", "count", len(batch), "error", err)
			return
		}
		for _, r := range batch {
			s.Forget(r.AOR, r.Key)
		}
		s.log.Debug("expired bindings removed", "count", len(batch))
	}
}
