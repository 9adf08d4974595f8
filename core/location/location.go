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
	demoted map[string]struct{}      // aor\x00key of bindings that failed a request
	// rank, when set, gives each of an AOR's bindings its availability
	// class (lower is better: SetRank).
	rank func(aor string, bs []state.Binding) []int8
}

// New returns a location service for node over st, writing through w.
func New(st *state.State, w state.Writer, node string, log *slog.Logger) *Service {
	return &Service{
		st: st, w: w, node: node, log: log, now: time.Now,
		overlay: make(map[string]state.Refresh),
		pending: make(map[string]state.Refresh),
		used:    make(map[string]int64),
		demoted: make(map[string]struct{}),
	}
}

// ukeySep separates the AOR from the binding key in ukey.
const ukeySep = "\x00"

func ukey(aor, key string) string { return aor + ukeySep + key }

// appendUkey appends ukey(aor, key) to dst, for lookups that convert it in
// place without making a string.
func appendUkey(dst []byte, aor, key string) []byte {
	return append(append(append(dst, aor...), ukeySep...), key...)
}

// Current returns the AOR's live bindings, best first, with local
// refreshes applied.
func (s *Service) Current(aor string) []state.Binding {
	list := s.st.Bindings(aor)
	if len(list) == 0 {
		return nil
	}
	nowS := s.now().Unix()
	acts := make([]int64, 0, len(list))
	var down []bool
	live := list[:0] // list is our own copy
	var buf [128]byte
	s.mu.Lock()
	for _, b := range list {
		// The lookups convert the key in place: no string is made.
		k := appendUkey(buf[:0], aor, b.Key())
		if r, ok := s.overlay[string(k)]; ok && r.CallID == b.CallID && r.CSeq >= b.CSeq {
			b.CSeq, b.Expires, b.Updated = r.CSeq, r.Expires, r.Updated
		}
		if b.Expires <= nowS {
			continue
		}
		act := b.Updated
		if u := s.used[string(k)]; u > act {
			act = u
		}
		if _, d := s.demoted[string(k)]; d {
			if down == nil {
				down = make([]bool, len(list))
			}
			down[len(live)] = true
		}
		live = append(live, b)
		acts = append(acts, act)
	}
	rank := s.rank
	s.mu.Unlock()
	if len(live) > 1 {
		p := byPreference{b: live, act: acts}
		if down != nil {
			p.down = down[:len(live)]
		}
		if rank != nil {
			p.rank = rank(aor, live)
			if len(p.rank) != len(live) {
				p.rank = nil
			}
		}
		sort.Stable(p)
	}
	if len(live) == 0 {
		return nil
	}
	return live
}

// byPreference orders bindings: those that did not fail a request
// before those demoted (Demote), then by q (highest first), then by
// availability class (rank, lowest first), then by last activity (most
// recent first): LCS's most active and available endpoint.
type byPreference struct {
	b    []state.Binding
	act  []int64
	down []bool // nil: none demoted
	rank []int8 // nil: no availability known
}

func (p byPreference) Len() int { return len(p.b) }
func (p byPreference) Less(i, j int) bool {
	if p.down != nil && p.down[i] != p.down[j] {
		return !p.down[i]
	}
	if p.b[i].Q != p.b[j].Q {
		return p.b[i].Q > p.b[j].Q
	}
	if p.rank != nil && p.rank[i] != p.rank[j] {
		return p.rank[i] < p.rank[j]
	}
	return p.act[i] > p.act[j]
}
func (p byPreference) Swap(i, j int) {
	p.b[i], p.b[j] = p.b[j], p.b[i]
	p.act[i], p.act[j] = p.act[j], p.act[i]
	if p.down != nil {
		p.down[i], p.down[j] = p.down[j], p.down[i]
	}
	if p.rank != nil {
		p.rank[i], p.rank[j] = p.rank[j], p.rank[i]
	}
}

// SetRank makes Current order bindings of equal q by an availability
// class f gives each (lower first; the presence agent's published
// states: online before away before busy before do-not-disturb). f sees
// an AOR's live bindings and must return one class per binding; it is
// called only for AORs with more than one. Call it before serving.
func (s *Service) SetRank(f func(aor string, bs []state.Binding) []int8) {
	s.mu.Lock()
	s.rank = f
	s.mu.Unlock()
}

// DoNotDisturb is the availability class (SetRank) of an endpoint that
// takes instant messages but no calls (published do-not-disturb or
// offline): a forked INVITE leaves it out while the user has another.
const DoNotDisturb int8 = 3

// Ranks returns the availability class SetRank's function gives each of
// bs (bindings of aor), nil when none is known.
func (s *Service) Ranks(aor string, bs []state.Binding) []int8 {
	s.mu.Lock()
	rank := s.rank
	s.mu.Unlock()
	if rank == nil || len(bs) == 0 {
		return nil
	}
	if r := rank(aor, bs); len(r) == len(bs) {
		return r
	}
	return nil
}

// maxDemoted bounds the demoted set: past it the set starts afresh (a
// demotion only reorders, so forgetting one is harmless).
const maxDemoted = 1 << 16

// Demote ranks binding key of aor below every binding that did not fail
// until it is heard from again (a request from its flow, a refresh, a
// new registration): a request to it just went unanswered or could not
// be sent, so the next one tries the user's other endpoints first.
func (s *Service) Demote(aor, key string) {
	k := ukey(aor, key)
	s.mu.Lock()
	if len(s.demoted) >= maxDemoted {
		clear(s.demoted)
	}
	s.demoted[k] = struct{}{}
	s.mu.Unlock()
}

// Demoted reports whether binding key of aor is demoted.
func (s *Service) Demoted(aor, key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.demoted[ukey(aor, key)]
	return ok
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
	delete(s.demoted, k)
	s.mu.Unlock()
}

// Forget drops local refresh state for a binding a replicated write just
// replaced or removed.
func (s *Service) Forget(aor, key string) {
	k := ukey(aor, key)
	s.mu.Lock()
	delete(s.overlay, k)
	delete(s.pending, k)
	delete(s.demoted, k)
	s.mu.Unlock()
}

// NoteActivity marks the binding whose flow is source as the most recently
// active endpoint of aor (it just sent us a request).
func (s *Service) NoteActivity(aor, source string) {
	key, ok := s.st.BindingKeyFrom(aor, source)
	if !ok {
		return
	}
	k := ukey(aor, key)
	now := s.now().UnixNano()
	s.mu.Lock()
	s.used[k] = now
	delete(s.demoted, k)
	s.mu.Unlock()
}

// PendingRefreshes returns how many refreshes wait for replication.
func (s *Service) PendingRefreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}
