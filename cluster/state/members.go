package state

import (
	"fmt"
	"sort"
)

// Member metadata command types. Every node writes its own entry once it
// is ready (and again when its addresses change); removing a node from
// the cluster deletes its entry.
const (
	CmdMemberPut    CommandType = 70
	CmdMemberDelete CommandType = 71
)

func init() {
	registerCommand(CmdMemberPut, "member.put", applyMemberPut)
	registerCommand(CmdMemberDelete, "member.delete", applyMemberDelete)
}

// Member roles.
const (
	RoleHome     = "home"     // holds registrations (bindings are homed here)
	RoleDirector = "director" // holds none: redirects REGISTER, proxies the rest
)

// Member is what the cluster knows about one node beyond raft's
// configuration: how to reach it and what it does.
type Member struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	AdminURL string `json:"admin_url,omitempty"`
	// SIPAddr is the SIP URI of the node's intra-cluster link, e.g.
	// "sip:10.0.0.2:5070;transport=tcp": other members forward requests
	// for bindings homed there to it.
	SIPAddr string `json:"sip_addr,omitempty"`
	Role    string `json:"role"`
	// SIPListen is the node's client-facing SIP listeners, comma
	// separated scheme://advertised-host:port (what a director redirects
	// clients to).
	SIPListen string `json:"sip_listen,omitempty"`
}

// MemberPut adds a member's entry or updates it: empty fields keep the
// stored value, so the leader and the node itself can each write what
// they know.
type MemberPut struct {
	Member Member `json:"member"`
}

// MemberDelete removes a member's entry.
type MemberDelete struct {
	ID string `json:"id"`
}

// ChangeKind for member metadata.
const MembersChanged ChangeKind = 100

func applyMemberPut(s *State, c *Command) any {
	body, err := decodeBody[MemberPut](c)
	if err != nil {
		return err
	}
	if body.Member.ID == "" {
		return fmt.Errorf("%w: member without id", ErrInvalid)
	}
	m := body.Member
	if old, ok := s.members[m.ID]; ok {
		m = old.merge(m)
		if m == *old {
			return nil
		}
	}
	s.members[m.ID] = &m
	s.changed(MembersChanged, "")
	return nil
}

func applyMemberDelete(s *State, c *Command) any {
	body, err := decodeBody[MemberDelete](c)
	if err != nil {
		return err
	}
	if _, ok := s.members[body.ID]; !ok {
		return nil // deleting twice is harmless
	}
	delete(s.members, body.ID)
	s.changed(MembersChanged, "")
	return nil
}

// Members returns copies of every member's entry sorted by ID.
func (s *State) Members() []Member {
	s.mu.RLock()
	out := make([]Member, 0, len(s.members))
	for _, m := range s.members {
		out = append(out, *m)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Member returns a copy of one member's entry.
func (s *State) Member(id string) (Member, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, ok := s.members[id]
	if !ok {
		return Member{}, false
	}
	return *m, true
}

// merge returns m with upd's non-empty fields written over it.
func (m Member) merge(upd Member) Member {
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&m.RaftAddr, upd.RaftAddr}, {&m.AdminURL, upd.AdminURL}, {&m.SIPAddr, upd.SIPAddr},
		{&m.Role, upd.Role}, {&m.SIPListen, upd.SIPListen},
	} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	return m
}
