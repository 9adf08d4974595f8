package state

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// dedupWindow is how many recent request ids are remembered. A retry that
// arrives after this many other writes is applied again, so every command
// is also written to be harmless when repeated.
const dedupWindow = 16384

// Change tells observers what an applied command touched.
type Change struct {
	Kind  ChangeKind
	AOR   string
	Index uint64
}

// ChangeKind classifies a Change.
type ChangeKind uint8

// Change kinds.
const (
	UsersChanged ChangeKind = iota + 1
	BindingsChanged
	MetaChanged
	PresenceChanged      // publications or calendar of AOR
	SubscriptionsChanged // subscriptions to AOR (a resource)
	ContactsChanged      // AOR's contact list
	RulesChanged         // AOR's presence authorization rules
	RoutesChanged        // the static routing table
	AppsChanged          // the application chain
	PartnersChanged      // the federation partner list
	MembersChanged       // cluster member metadata
	OfflineChanged       // a message was stored for AOR
	PSTNConfigChanged    // the PSTN configuration document named AOR ("": all, a snapshot)
)

// State is the replicated state. The zero value is not usable; call New.
type State struct {
	mu       sync.RWMutex
	users    map[string]*User      // by AOR
	bindings map[string][]*Binding // by AOR
	meta     Meta
	dedup    dedupRing

	pubs          map[string][]*Publication           // by AOR
	calendar      map[string][]CalendarEntry          // by AOR
	subs          map[string]*Subscription            // by dialog id
	subsByTarget  map[string]map[string]*Subscription // resource -> id -> sub
	xcap          map[string]*XcapDoc                 // by XcapKey
	contacts      map[string][]Contact                // owner AOR -> contact list
	contactOf     map[string]map[string]bool          // target AOR -> owners
	rules         map[string]PresRules                // owner AOR -> rules
	routes        map[string]*Route                   // static routes by ID
	apps          map[string]*App                     // application chain by name
	partners      map[string]*Partner                 // federation partners by domain
	members       map[string]Member                   // cluster members by node id
	membersGen    atomic.Uint64                       // bumped on every change of members (MembersGen)
	pluginKV      map[string]map[string][]byte        // plugin -> key -> value
	leases        map[string]Lease                    // singleton plugin -> lease
	offline       map[string][]OfflineMessage         // AOR -> stored messages, oldest first
	offlineClaims map[string]offlineClaimHeld         // AOR -> its deliverer
	offlineTotal  int                                 // messages stored, all users
	pstn          map[string]*PSTNConfig              // PSTN configuration documents by name
	lastIndex     uint64
	nBindings     int
	pending       []Change // changes of the command being applied

	obsMu     sync.RWMutex
	observers []func([]Change)
}

// Meta holds cluster-wide settings created once.
type Meta struct {
	// Secret keys the HMACs every node must agree on (digest nonces,
	// record-route tokens). Created by the first leader.
	Secret []byte `json:"secret,omitempty"`
}

// New returns an empty state.
func New() *State {
	s := &State{dedup: newDedupRing(dedupWindow)}
	s.reset()
	return s
}

// reset empties every table (New and Restore).
func (s *State) reset() {
	s.users = make(map[string]*User)
	s.bindings = make(map[string][]*Binding)
	s.nBindings = 0
	s.pubs = make(map[string][]*Publication)
	s.calendar = make(map[string][]CalendarEntry)
	s.subs = make(map[string]*Subscription)
	s.subsByTarget = make(map[string]map[string]*Subscription)
	s.xcap = make(map[string]*XcapDoc)
	s.contacts = make(map[string][]Contact)
	s.contactOf = make(map[string]map[string]bool)
	s.rules = make(map[string]PresRules)
	s.routes = make(map[string]*Route)
	s.apps = make(map[string]*App)
	s.partners = make(map[string]*Partner)
	s.members = make(map[string]Member)
	s.membersGen.Add(1)
	s.pluginKV = make(map[string]map[string][]byte)
	s.leases = make(map[string]Lease)
	s.offline = make(map[string][]OfflineMessage)
	s.offlineClaims = make(map[string]offlineClaimHeld)
	s.offlineTotal = 0
	s.pstn = make(map[string]*PSTNConfig)
}

// Observe registers f to be called after each applied batch with what it
// changed. f runs on the apply path: it must be quick and must not write.
func (s *State) Observe(f func([]Change)) {
	s.obsMu.Lock()
	s.observers = append(s.observers, f)
	s.obsMu.Unlock()
}

// Apply applies one encoded command at log index idx and returns its result.
// A command that cannot be decoded, or an unknown type without
// FlagIgnoreUnknown, panics: continuing would let this node diverge.
func (s *State) Apply(idx uint64, data []byte) any {
	res, ch := s.applyOne(idx, data)
	s.notify(ch)
	return res
}

// ApplyBatch applies several consecutive entries under one lock.
func (s *State) ApplyBatch(idx []uint64, data [][]byte) []any {
	out := make([]any, len(data))
	var changes []Change
	for i := range data {
		res, ch := s.applyOne(idx[i], data[i])
		out[i] = res
		changes = append(changes, ch...)
	}
	s.notify(changes)
	return out
}

func (s *State) applyOne(idx uint64, data []byte) (any, []Change) {
	c, err := Decode(data)
	if err != nil {
		panic(fmt.Sprintf("state: log index %d: %v", idx, err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if idx > s.lastIndex {
		s.lastIndex = idx
	}
	s.pending = s.pending[:0]
	var res any
	if c.Type == CmdBatch {
		res = s.applyBatch(idx, &c)
	} else {
		res = s.dispatch(idx, &c)
	}
	if len(s.pending) == 0 {
		return res, nil
	}
	ch := make([]Change, len(s.pending))
	for i, p := range s.pending {
		p.Index = idx
		ch[i] = p
	}
	return res, ch
}

// dispatch applies one decoded command (not a batch) under the write
// lock: a request id seen before gives Duplicate, an unknown type is
// skipped when the command allows it and panics otherwise.
func (s *State) dispatch(idx uint64, c *Command) any {
	h, ok := registry[c.Type]
	if !ok {
		if c.Flags&FlagIgnoreUnknown != 0 {
			return nil
		}
		panic(fmt.Sprintf("state: log index %d: unknown command type %d", idx, c.Type))
	}
	if c.ReqID != "" && !s.dedup.add(c.ReqID) {
		return Duplicate{}
	}
	return h.apply(s, c)
}

// changed records what the command being applied touched.
func (s *State) changed(kind ChangeKind, aor string) {
	s.pending = append(s.pending, Change{Kind: kind, AOR: aor})
}

// Duplicate is the result of a command whose request id was already
// applied: the earlier application stands.
type Duplicate struct{}

func (s *State) notify(ch []Change) {
	if len(ch) == 0 {
		return
	}
	s.obsMu.RLock()
	obs := s.observers
	s.obsMu.RUnlock()
	for _, f := range obs {
		f(ch)
	}
}

// LastIndex returns the log index of the last applied command.
func (s *State) LastIndex() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lastIndex
}

// Secret returns the cluster secret, nil before the first leader made one.
func (s *State) Secret() []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]byte(nil), s.meta.Secret...)
}

// dedupRing remembers the last n request ids.
type dedupRing struct {
	ids  []string
	next int
	seen map[string]struct{}
}

func newDedupRing(n int) dedupRing {
	return dedupRing{ids: make([]string, n), seen: make(map[string]struct{}, n)}
}

// add records id and reports whether it was new.
func (d *dedupRing) add(id string) bool {
	if _, dup := d.seen[id]; dup {
		return false
	}
	if old := d.ids[d.next]; old != "" {
		delete(d.seen, old)
	}
	d.ids[d.next] = id
	d.seen[id] = struct{}{}
	d.next = (d.next + 1) % len(d.ids)
	return true
}

// list returns the remembered ids oldest first.
func (d *dedupRing) list() []string {
	out := make([]string, 0, len(d.seen))
	for i := 0; i < len(d.ids); i++ {
		if id := d.ids[(d.next+i)%len(d.ids)]; id != "" {
			out = append(out, id)
		}
	}
	return out
}
