package state

import (
	"fmt"
	"sort"
)

// Binding command types.
const (
	CmdBindingUpdate  CommandType = 10
	CmdBindingRefresh CommandType = 11
	CmdBindingExpire  CommandType = 12
)

func init() {
	registerCommand(CmdBindingUpdate, "binding.update", applyBindingUpdate, mustApply)
	registerCommand(CmdBindingRefresh, "binding.refresh", applyBindingRefresh, mustApply)
	registerCommand(CmdBindingExpire, "binding.expire", applyBindingExpire, mustApply)
}

// BindingUpdate is one REGISTER's new, changed and removed bindings.
type BindingUpdate struct {
	AOR       string    `json:"aor"`
	Upsert    []Binding `json:"upsert,omitempty"`
	Remove    []string  `json:"remove,omitempty"` // binding keys
	RemoveAll bool      `json:"remove_all,omitempty"`
}

// BindingRef names one binding as registered by one Call-ID and CSeq;
// refreshes and expiries only touch a binding that still matches it.
type BindingRef struct {
	AOR    string `json:"aor"`
	Key    string `json:"key"`
	CallID string `json:"call_id"`
	CSeq   uint32 `json:"cseq"`
}

// Refresh moves a binding's expiry without changing anything else.
type Refresh struct {
	BindingRef
	Expires int64 `json:"expires"`
	Updated int64 `json:"updated"`
}

// BindingRefresh is a batch of refreshes from a binding's home node.
type BindingRefresh struct {
	Items []Refresh `json:"items"`
}

// BindingExpire removes bindings their home node saw lapse.
type BindingExpire struct {
	Items []BindingRef `json:"items"`
}

func applyBindingUpdate(s *State, c *Command) any {
	body, err := decodeBindingUpdate(c)
	if err != nil {
		return err
	}
	if body.AOR == "" {
		return fmt.Errorf("%w: binding update without aor", ErrInvalid)
	}
	cur := s.bindings[body.AOR]
	before := len(cur)
	if body.RemoveAll {
		cur = nil
	}
	for _, key := range body.Remove {
		cur = removeKey(cur, key)
	}
	for i := range body.Upsert {
		b := body.Upsert[i]
		b.Updated = c.Time
		key := b.Key()
		if j := indexKey(cur, key); j >= 0 {
			old := cur[j]
			if old.CallID == b.CallID && b.CSeq <= old.CSeq {
				continue // an older REGISTER arriving late
			}
			cur[j] = &b
			continue
		}
		cur = append(cur, &b)
	}
	s.setBindings(body.AOR, cur, before)
	return copyBindings(cur)
}

func applyBindingRefresh(s *State, c *Command) any {
	body, err := decodeBody[BindingRefresh](c)
	if err != nil {
		return err
	}
	for _, r := range body.Items {
		b := s.find(r.BindingRef, false)
		if b == nil || r.CSeq < b.CSeq {
			continue
		}
		b.CSeq, b.Expires, b.Updated = r.CSeq, r.Expires, r.Updated
	}
	return nil
}

func applyBindingExpire(s *State, c *Command) any {
	body, err := decodeBody[BindingExpire](c)
	if err != nil {
		return err
	}
	removed := 0
	for _, r := range body.Items {
		if s.find(r, true) == nil {
			continue
		}
		cur := s.bindings[r.AOR]
		s.setBindings(r.AOR, removeKey(cur, r.Key), len(cur))
		removed++
	}
	return removed
}

// find returns the binding r names if it still has r's Call-ID (and, when
// exact, r's CSeq).
func (s *State) find(r BindingRef, exact bool) *Binding {
	cur := s.bindings[r.AOR]
	j := indexKey(cur, r.Key)
	if j < 0 || cur[j].CallID != r.CallID || (exact && cur[j].CSeq != r.CSeq) {
		return nil
	}
	return cur[j]
}

func (s *State) setBindings(aor string, cur []*Binding, before int) {
	s.nBindings += len(cur) - before
	if len(cur) == 0 {
		delete(s.bindings, aor)
	} else {
		s.bindings[aor] = cur
	}
	s.changed(BindingsChanged, aor)
}

func indexKey(list []*Binding, key string) int {
	for i, b := range list {
		if b.Key() == key {
			return i
		}
	}
	return -1
}

func removeKey(list []*Binding, key string) []*Binding {
	if j := indexKey(list, key); j >= 0 {
		out := make([]*Binding, 0, len(list)-1)
		out = append(out, list[:j]...)
		return append(out, list[j+1:]...)
	}
	return list
}

func copyBindings(list []*Binding) []Binding {
	out := make([]Binding, len(list))
	for i, b := range list {
		out[i] = *b
	}
	return out
}

// BindingKeyFrom returns the key of the AOR's binding registered from
// source (host:port), without copying the bindings.
func (s *State) BindingKeyFrom(aor, source string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, b := range s.bindings[aor] {
		if b.Source == source {
			return b.Key(), true
		}
	}
	return "", false
}

// Bindings returns copies of the AOR's bindings.
func (s *State) Bindings(aor string) []Binding {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return copyBindings(s.bindings[aor])
}

// BindingCount returns the number of bindings of all users.
func (s *State) BindingCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.nBindings
}

// EachBinding calls f for every binding, sorted by AOR, on copies made
// under the read lock; f may do anything.
func (s *State) EachBinding(f func(aor string, b Binding)) {
	s.mu.RLock()
	aors := make([]string, 0, len(s.bindings))
	for aor := range s.bindings {
		aors = append(aors, aor)
	}
	s.mu.RUnlock()
	sort.Strings(aors)
	for _, aor := range aors {
		for _, b := range s.Bindings(aor) {
			f(aor, b)
		}
	}
}

// Lapsed returns the bindings homed on node whose replicated expiry is at
// or before nowS (unix seconds), as references for CmdBindingExpire. It
// scans under the read lock without copying the other bindings.
func (s *State) Lapsed(node string, nowS int64) []BindingRef {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []BindingRef
	for aor, list := range s.bindings {
		for _, b := range list {
			if b.Home == node && b.Expires <= nowS {
				out = append(out, BindingRef{AOR: aor, Key: b.Key(), CallID: b.CallID, CSeq: b.CSeq})
			}
		}
	}
	return out
}
