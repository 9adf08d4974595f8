package location

import (
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
)

// Service answers where an AOR's endpoints are.
type Service struct {
	st   *state.State
	w    state.Writer
	node string
	log  *slog.Logger
	now  func() time.Time
	live *Liveness // nil: every home is reachable (a single node)

	mu      sync.Mutex
	overlay map[string]state.Refresh // aor\x00key -> newest local refresh
	pending map[string]state.Refresh // refreshes not yet replicated
	used    map[string]int64         // aor\x00key -> unix ns of last activity
}

// New returns a location service for node over st, writing through w.
func New(st *state.State, w state.Writer, node string, log *slog.Logger) *Service {
	return &Service{
		st: st, w: w, node: node, log: log, now: time.Now,
		overlay: make(map[string]state.Refresh),
		pending: make(map[string]state.Refresh),
		used:    make(map[string]int64),
	}
}

func ukey(aor, key string) string { return aor + "\x00" + key }

// Current returns the AOR's live bindings, best first, with local
// refreshes applied.
func (s *Service) Current(aor string) []state.Binding {
	list := s.st.Bindings(aor)
	if len(list) == 0 {
		return nil
	}
	nowS := s.now().Unix()
	type entry struct {
		b   state.Binding
		act int64
	}
	live := make([]entry, 0, len(list))
	s.mu.Lock()
	for _, b := range list {
		k := ukey(aor, b.Key())
		if r, ok := s.overlay[k]; ok && r.CallID == b.CallID && r.CSeq >= b.CSeq {
			b.CSeq, b.Expires, b.Updated = r.CSeq, r.Expires, r.Updated
		}
		if b.Expires <= nowS {
			continue
		}
		act := b.Updated
		if u := s.used[k]; u > act {
			act = u
		}
		live = append(live, entry{b: b, act: act})
	}
	s.mu.Unlock()
	sort.SliceStable(live, func(i, j int) bool {
		if live[i].b.Q != live[j].b.Q {
			return live[i].b.Q > live[j].b.Q
		}
		return live[i].act > live[j].act
	})
	out := make([]state.Binding, len(live))
	for i := range live {
		out[i] = live[i].b
	}
	return out
}

// SetLiveness makes Best skip bindings whose home node l reports down.
// Call it before serving.
func (s *Service) SetLiveness(l *Liveness) { s.live = l }

// HomeDown reports whether node's link is down from here.
func (s *Service) HomeDown(node string) bool { return s.live.Down(node) }

// MarkHomeDown records that node's link could not be reached.
func (s *Service) MarkHomeDown(node string) { s.live.MarkDown(node) }

// Best returns the most active and available binding of aor, cluster
// wide: the first of Current whose home node is reachable. Bindings homed
// on a node that is down stay registered (their client may re-register
// elsewhere, or the node may return) but are not chosen.
func (s *Service) Best(aor string) (state.Binding, bool) {
	for _, b := range s.Current(aor) {
		if !s.live.Down(b.Home) {
			return b, true
		}
	}
	return state.Binding{}, false
}

// Refresh records that the binding b (as registered by callID) was
// refreshed with cseq until expires. It is replicated with the next batch.
func (s *Service) Refresh(aor string, b state.Binding, cseq uint32, expires int64) {
	r := state.Refresh{
		BindingRef: state.BindingRef{AOR: aor, Key: b.Key(), CallID: b.CallID, CSeq: cseq},
		Expires:    expires,
		Updated:    s.now().UnixNano(),
	}
	k := ukey(aor, r.Key)
	s.mu.Lock()
	s.overlay[k] = r
	s.pending[k] = r
	s.mu.Unlock()
}

// Forget drops local refresh state for a binding a replicated write just
// replaced or removed.
func (s *Service) Forget(aor, key string) {
	k := ukey(aor, key)
	s.mu.Lock()
	delete(s.overlay, k)
	delete(s.pending, k)
	s.mu.Unlock()
}

// NoteActivity marks the binding whose flow is source as the most recently
// active endpoint of aor (it just sent us a request).
func (s *Service) NoteActivity(aor, source string) {
	for _, b := range s.st.Bindings(aor) {
		if b.Source == source {
			s.mu.Lock()
			s.used[ukey(aor, b.Key())] = s.now().UnixNano()
			s.mu.Unlock()
			return
		}
	}
}

// PendingRefreshes returns how many refreshes wait for replication.
func (s *Service) PendingRefreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}
