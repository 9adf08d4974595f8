package state

import "fmt"

// Subscription command types.
const (
	CmdSubscriptionPut    CommandType = 32
	CmdSubscriptionDelete CommandType = 33
)

func init() {
	registerCommand(CmdSubscriptionPut, "subscription.put", applySubscriptionPut, mustApply)
	registerCommand(CmdSubscriptionDelete, "subscription.delete", applySubscriptionDelete, mustApply)
}

// Subscription is one SUBSCRIBE dialog in which we are the notifier
// (RFC 6665). It holds everything needed to send NOTIFYs after a restart
// or from another node.
type Subscription struct {
	ID        string   `json:"id"`    // Call-ID;from-tag;to-tag
	Event     string   `json:"event"` // presence or presence.winfo
	Watcher   string   `json:"watcher"`
	Target    string   `json:"target"` // the resource: an AOR, or a list URI
	List      bool     `json:"list,omitempty"`
	CallID    string   `json:"call_id"`
	FromTag   string   `json:"from_tag"` // the watcher's tag
	ToTag     string   `json:"to_tag"`   // ours
	RemoteURI string   `json:"remote_uri"`
	LocalURI  string   `json:"local_uri"`
	Contact   string   `json:"contact"`
	RouteSet  []string `json:"route_set,omitempty"`
	Accept    []string `json:"accept,omitempty"`
	Expires   int64    `json:"expires"`
	Created   int64    `json:"created"`
	Status    string   `json:"status"` // active, pending
	Transport string   `json:"transport"`
	Source    string   `json:"source"`
	Home      string   `json:"home"`
}

// SubscriptionPut creates or replaces a subscription.
type SubscriptionPut struct {
	Sub Subscription `json:"sub"`
}

// SubscriptionDelete ends subscriptions.
type SubscriptionDelete struct {
	IDs []string `json:"ids"`
}

func applySubscriptionPut(s *State, c *Command) any {
	body, err := decodeBody[SubscriptionPut](c)
	if err != nil {
		return err
	}
	sub := body.Sub
	if sub.ID == "" || sub.Target == "" {
		return fmt.Errorf("%w: subscription without id or target", ErrInvalid)
	}
	if old, ok := s.subs[sub.ID]; ok {
		sub.Created = old.Created
		s.unindexSub(old)
	} else {
		sub.Created = c.Time
	}
	s.subs[sub.ID] = &sub
	if s.subsByTarget[sub.Target] == nil {
		s.subsByTarget[sub.Target] = make(map[string]*Subscription)
	}
	s.subsByTarget[sub.Target][sub.ID] = &sub
	s.changed(SubscriptionsChanged, sub.Target)
	return nil
}

func applySubscriptionDelete(s *State, c *Command) any {
	body, err := decodeBody[SubscriptionDelete](c)
	if err != nil {
		return err
	}
	n := 0
	for _, id := range body.IDs {
		if old, ok := s.subs[id]; ok {
			s.unindexSub(old)
			delete(s.subs, id)
			s.changed(SubscriptionsChanged, old.Target)
			n++
		}
	}
	return n
}

func (s *State) unindexSub(sub *Subscription) {
	if m := s.subsByTarget[sub.Target]; m != nil {
		delete(m, sub.ID)
		if len(m) == 0 {
			delete(s.subsByTarget, sub.Target)
		}
	}
}

// Subscription returns one subscription by dialog id.
func (s *State) Subscription(id string) (Subscription, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sub, ok := s.subs[id]
	if !ok {
		return Subscription{}, false
	}
	return *sub, true
}

// SubscriptionsTo returns the subscriptions whose resource is target.
func (s *State) SubscriptionsTo(target string) []Subscription {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Subscription, 0, len(s.subsByTarget[target]))
	for _, sub := range s.subsByTarget[target] {
		out = append(out, *sub)
	}
	return out
}

// SubscriptionsOf calls f for every subscription homed on node.
func (s *State) SubscriptionsOf(node string) []Subscription {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Subscription
	for _, sub := range s.subs {
		if sub.Home == node {
			out = append(out, *sub)
		}
	}
	return out
}

// SubscriptionTargets returns every resource someone subscribes to.
func (s *State) SubscriptionTargets() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.subsByTarget))
	for t := range s.subsByTarget {
		out = append(out, t)
	}
	return out
}
