package state

import (
	"encoding/json"
	"fmt"
	"io"
)

// snapshotVersion is bumped when the snapshot layout changes incompatibly.
const snapshotVersion = 1

type snapshot struct {
	Version   int                  `json:"version"`
	LastIndex uint64               `json:"last_index"`
	Meta      Meta                 `json:"meta"`
	Users     []User               `json:"users"`
	Bindings  map[string][]Binding `json:"bindings"`
	Dedup     []string             `json:"dedup"`

	Publications  map[string][]Publication     `json:"publications,omitempty"`
	Calendar      map[string][]CalendarEntry   `json:"calendar,omitempty"`
	Subscriptions []Subscription               `json:"subscriptions,omitempty"`
	Xcap          []xcapEntry                  `json:"xcap,omitempty"`
	Routes        []Route                      `json:"routes,omitempty"`
	Apps          []App                        `json:"apps,omitempty"`
	PluginKV      map[string]map[string][]byte `json:"plugin_kv,omitempty"`
	Leases        []Lease                      `json:"leases,omitempty"`
	Partners      []Partner                    `json:"partners,omitempty"`
	Members       []Member                     `json:"members,omitempty"`

	Offline       map[string][]OfflineMessage `json:"offline,omitempty"`
	OfflineClaims map[string]offlineClaimHeld `json:"offline_claims,omitempty"`

	PSTNConfigs []PSTNConfig `json:"pstn_configs,omitempty"`
}

// xcapEntry is a document with what was derived from it.
type xcapEntry struct {
	AUID, XUI, Doc string
	XcapDoc
	Contacts []Contact  `json:"contacts,omitempty"`
	Rules    *PresRules `json:"rules,omitempty"`
}

// Snapshot returns a point-in-time copy that can be written out later
// without holding the lock.
func (s *State) Snapshot() *Image {
	s.mu.RLock()
	defer s.mu.RUnlock()
	img := &snapshot{
		Version:   snapshotVersion,
		LastIndex: s.lastIndex,
		Meta:      Meta{Secret: append([]byte(nil), s.meta.Secret...)},
		Users:     make([]User, 0, len(s.users)),
		Bindings:  make(map[string][]Binding, len(s.bindings)),
		Dedup:     s.dedup.list(),
	}
	for _, u := range s.users {
		img.Users = append(img.Users, *u)
	}
	for aor, list := range s.bindings {
		img.Bindings[aor] = copyBindings(list)
	}
	s.snapshotPresence(img)
	s.snapshotPartners(img)
	for _, m := range s.members {
		img.Members = append(img.Members, m)
	}
	s.snapshotPlugins(img)
	s.snapshotOffline(img)
	s.snapshotPSTN(img)
	return &Image{snap: img}
}

// Image is a frozen copy of the state.
type Image struct{ snap *snapshot }

// WriteTo writes the image as JSON.
func (i *Image) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	if err := json.NewEncoder(cw).Encode(i.snap); err != nil {
		return cw.n, fmt.Errorf("state: write snapshot: %w", err)
	}
	return cw.n, nil
}

// Restore replaces the whole state with a snapshot written by WriteTo.
func (s *State) Restore(r io.Reader) error {
	var img snapshot
	if err := json.NewDecoder(r).Decode(&img); err != nil {
		return fmt.Errorf("state: read snapshot: %w", err)
	}
	if img.Version != snapshotVersion {
		return fmt.Errorf("state: snapshot version %d, this node reads %d", img.Version, snapshotVersion)
	}
	users := make(map[string]*User, len(img.Users))
	for i := range img.Users {
		u := img.Users[i]
		users[u.AOR()] = &u
	}
	bindings := make(map[string][]*Binding, len(img.Bindings))
	n := 0
	for aor, list := range img.Bindings {
		ptrs := make([]*Binding, len(list))
		for i := range list {
			b := list[i]
			ptrs[i] = &b
		}
		bindings[aor] = ptrs
		n += len(list)
	}
	dedup := newDedupRing(dedupWindow)
	for _, id := range img.Dedup {
		dedup.add(id)
	}
	s.mu.Lock()
	s.reset()
	s.users, s.bindings, s.nBindings = users, bindings, n
	s.meta, s.dedup, s.lastIndex = img.Meta, dedup, img.LastIndex
	s.restorePresence(&img)
	s.restorePartners(&img)
	for _, m := range img.Members {
		s.members[m.ID] = m
		s.membersGen.Add(1)
	}
	s.restorePlugins(&img)
	s.restoreOffline(&img)
	s.restorePSTN(&img)
	s.pending = s.pending[:0]
	s.mu.Unlock()
	s.notify([]Change{{Kind: UsersChanged}, {Kind: BindingsChanged}, {Kind: MetaChanged},
		{Kind: PresenceChanged}, {Kind: SubscriptionsChanged}, {Kind: ContactsChanged}, {Kind: RulesChanged}, {Kind: RoutesChanged}, {Kind: AppsChanged},
		{Kind: PartnersChanged}, {Kind: MembersChanged}, {Kind: PSTNConfigChanged}})
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
