package state

import (
	"errors"
	"fmt"
	"sort"
)

// Offline message command types: the store a MESSAGE for a user nobody
// can reach waits in until the user registers again (Kamailio msilo,
// XMPP offline storage). The family is ignorable: the server never
// routes or authorizes by it, and an older node neither stores nor
// delivers: the upgraded nodes, which deliver, all applied every store.
// The writer answers 202 only on its own apply's OfflineStored.
const (
	CmdOfflineStore  CommandType = 100
	CmdOfflineClaim  CommandType = 101
	CmdOfflineDelete CommandType = 102
	CmdOfflineSweep  CommandType = 103
)

func init() {
	registerCommand(CmdOfflineStore, "offline.store", applyOfflineStore, ignorable)
	registerCommand(CmdOfflineClaim, "offline.claim", applyOfflineClaim, ignorable)
	registerCommand(CmdOfflineDelete, "offline.delete", applyOfflineDelete, ignorable)
	registerCommand(CmdOfflineSweep, "offline.sweep", applyOfflineSweep, ignorable)
}

// ErrOfflineFull is the result of a store over the user's or the
// cluster's quota (the sender is answered 486).
var ErrOfflineFull = errors.New("state: offline storage full")

// MaxOfflineBody bounds a stored body: the pipeline's MESSAGE limit.
const MaxOfflineBody = 64 << 10

// OfflineStore keeps a MESSAGE for AOR. The writer states the bounds
// (PerUser, Total messages; TTL nanoseconds from the leader's stamp), so
// every node applies the same ones.
type OfflineStore struct {
	AOR         string `json:"aor"`
	From        string `json:"from"`
	To          string `json:"to"`
	CallID      string `json:"call_id"`
	ContentType string `json:"content_type,omitempty"`
	Body        []byte `json:"body,omitempty"`
	PerUser     int    `json:"per_user"`
	Total       int    `json:"total"`
	TTL         int64  `json:"ttl"`
}

// OfflineMessage is one stored MESSAGE. ID is the store command's
// request id (stamped by the writer, unique; not a counter, so a node
// that skipped a store during an upgrade agrees on every other id); a
// user's messages are kept in log order. Time is the leader's stamp of
// the store (unix ns), Expires when the sweep drops it.
type OfflineMessage struct {
	ID          string `json:"id"`
	AOR         string `json:"aor"`
	From        string `json:"from"`
	To          string `json:"to"`
	CallID      string `json:"call_id"`
	ContentType string `json:"content_type,omitempty"`
	Body        []byte `json:"body,omitempty"`
	Time        int64  `json:"time"`
	Expires     int64  `json:"expires"`
}

// OfflineStored is the result of a kept message.
type OfflineStored struct{ ID string }

// OfflineClaim asks that Node deliver AOR's messages until the command's
// time plus TTL: granted when nobody holds the claim, when it lapsed, or
// when Node holds it already; Release gives it up. One claim per user
// makes one node the deliverer, so no message goes out twice.
type OfflineClaim struct {
	AOR     string `json:"aor"`
	Node    string `json:"node"`
	TTL     int64  `json:"ttl"`
	Release bool   `json:"release,omitempty"`
}

// OfflineClaimed is a claim's result: the holder and its deadline, and
// for a granted claim the messages to deliver, oldest first (none that
// expired at the claim's time).
type OfflineClaimed struct {
	Node     string
	Until    int64
	Messages []OfflineMessage
}

// OfflineDelete removes AOR's messages with IDs, or all of them (a
// purge); an empty AOR with All purges every user's. Deleting what is
// gone is fine: a delete may be repeated.
type OfflineDelete struct {
	AOR string   `json:"aor,omitempty"`
	IDs []string `json:"ids,omitempty"`
	All bool     `json:"all,omitempty"`
}

// OfflineSweep drops the messages expired at the command's time, and
// lapsed claims. The leader writes it periodically.
type OfflineSweep struct{}

// offlineClaimHeld is a granted claim.
type offlineClaimHeld struct {
	Node  string `json:"node"`
	Until int64  `json:"until"`
}

func applyOfflineStore(s *State, c *Command) any {
	b, err := decodeBody[OfflineStore](c)
	if err != nil {
		return err
	}
	if b.AOR == "" || c.ReqID == "" || b.PerUser <= 0 || b.Total <= 0 || b.TTL <= 0 || len(b.Body) > MaxOfflineBody {
		return fmt.Errorf("%w: offline store for %q", ErrInvalid, b.AOR)
	}
	if len(s.offline[b.AOR]) >= b.PerUser {
		return fmt.Errorf("%w: %s has %d messages", ErrOfflineFull, b.AOR, len(s.offline[b.AOR]))
	}
	if s.offlineTotal >= b.Total {
		return fmt.Errorf("%w: %d messages stored", ErrOfflineFull, s.offlineTotal)
	}
	m := OfflineMessage{ID: c.ReqID, AOR: b.AOR, From: b.From, To: b.To, CallID: b.CallID,
		ContentType: b.ContentType, Body: b.Body, Time: c.Time, Expires: c.Time + b.TTL}
	s.offline[b.AOR] = append(s.offline[b.AOR], m)
	s.offlineTotal++
	s.changed(OfflineChanged, b.AOR)
	return OfflineStored{ID: m.ID}
}

func applyOfflineClaim(s *State, c *Command) any {
	b, err := decodeBody[OfflineClaim](c)
	if err != nil {
		return err
	}
	if b.AOR == "" || b.Node == "" || (!b.Release && b.TTL <= 0) {
		return fmt.Errorf("%w: offline claim without user, node or ttl", ErrInvalid)
	}
	cur, held := s.offlineClaims[b.AOR]
	mine := held && cur.Node == b.Node
	if b.Release {
		if mine {
			delete(s.offlineClaims, b.AOR)
		}
		return OfflineClaimed{}
	}
	if held && !mine && cur.Until > c.Time {
		return OfflineClaimed{Node: cur.Node, Until: cur.Until}
	}
	cur = offlineClaimHeld{Node: b.Node, Until: c.Time + b.TTL}
	s.offlineClaims[b.AOR] = cur
	out := OfflineClaimed{Node: cur.Node, Until: cur.Until}
	for _, m := range s.offline[b.AOR] {
		if m.Expires > c.Time {
			out.Messages = append(out.Messages, m)
		}
	}
	return out
}

func applyOfflineDelete(s *State, c *Command) any {
	b, err := decodeBody[OfflineDelete](c)
	if err != nil {
		return err
	}
	n := 0
	switch {
	case b.All && b.AOR == "":
		n = s.offlineTotal
		s.offline = make(map[string][]OfflineMessage)
		s.offlineTotal = 0
	case b.All:
		n = len(s.offline[b.AOR])
		s.dropOffline(b.AOR, func(OfflineMessage) bool { return true })
	default:
		ids := make(map[string]bool, len(b.IDs))
		for _, id := range b.IDs {
			ids[id] = true
		}
		n = s.dropOffline(b.AOR, func(m OfflineMessage) bool { return ids[m.ID] })
	}
	return n
}

func applyOfflineSweep(s *State, c *Command) any {
	if _, err := decodeBody[OfflineSweep](c); err != nil {
		return err
	}
	n := 0
	aors := make([]string, 0, len(s.offline))
	for aor := range s.offline {
		aors = append(aors, aor)
	}
	for _, aor := range aors {
		n += s.dropOffline(aor, func(m OfflineMessage) bool { return m.Expires <= c.Time })
	}
	for aor, cl := range s.offlineClaims {
		if cl.Until <= c.Time {
			delete(s.offlineClaims, aor)
		}
	}
	return n
}

// dropOffline removes aor's messages that drop says; it returns how many
// (write lock held).
func (s *State) dropOffline(aor string, drop func(OfflineMessage) bool) int {
	list := s.offline[aor]
	kept := list[:0]
	for _, m := range list {
		if !drop(m) {
			kept = append(kept, m)
		}
	}
	n := len(list) - len(kept)
	clear(list[len(kept):])
	s.offlineTotal -= n
	if len(kept) == 0 {
		delete(s.offline, aor)
	} else {
		s.offline[aor] = kept
	}
	return n
}

// Offline returns aor's stored messages, oldest first.
func (s *State) Offline(aor string) []OfflineMessage {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]OfflineMessage(nil), s.offline[aor]...)
}

// OfflineCount returns how many messages wait for aor.
func (s *State) OfflineCount(aor string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.offline[aor])
}

// OfflineUsers returns how many messages wait for each user that has
// some, and the users sorted.
func (s *State) OfflineUsers() ([]string, map[string]int) {
	s.mu.RLock()
	counts := make(map[string]int, len(s.offline))
	for aor, list := range s.offline {
		counts[aor] = len(list)
	}
	s.mu.RUnlock()
	aors := make([]string, 0, len(counts))
	for aor := range counts {
		aors = append(aors, aor)
	}
	sort.Strings(aors)
	return aors, counts
}

// snapshotOffline copies the store (read lock held). Bodies are never
// modified after a store, so they are shared.
func (s *State) snapshotOffline(img *snapshot) {
	if len(s.offline) > 0 {
		img.Offline = make(map[string][]OfflineMessage, len(s.offline))
		for aor, list := range s.offline {
			img.Offline[aor] = append([]OfflineMessage(nil), list...)
		}
	}
	if len(s.offlineClaims) > 0 {
		img.OfflineClaims = make(map[string]offlineClaimHeld, len(s.offlineClaims))
		for aor, cl := range s.offlineClaims {
			img.OfflineClaims[aor] = cl
		}
	}
}

// restoreOffline rebuilds it (write lock held, tables reset).
func (s *State) restoreOffline(img *snapshot) {
	for aor, list := range img.Offline {
		s.offline[aor] = list
		s.offlineTotal += len(list)
	}
	for aor, cl := range img.OfflineClaims {
		s.offlineClaims[aor] = cl
	}
}
