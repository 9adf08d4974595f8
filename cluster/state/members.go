package state

import (
	"fmt"
	"sort"
)

// Cluster member command types.
const (
	CmdMemberPut    CommandType = 70
	CmdMemberDelete CommandType = 71
)

func init() {
	registerCommand(CmdMemberPut, "member.put", applyMemberPut, mustApply)
	registerCommand(CmdMemberDelete, "member.delete", applyMemberDelete, mustApply)
}

// Member roles (config role).
const (
	RoleHome     = "home"     // holds users' bindings
	RoleDirector = "director" // holds none: redirects and proxies to home nodes
	RoleEdge     = "edge"     // access proxy for federation partners
)

// Suffrage values a member can be meant to have. Raft's own configuration
// says what a member is now; Member.Suffrage says what the operator asked
// for, so the leader knows which non-voters to promote once caught up.
const (
	SuffrageVoter    = "voter"
	SuffrageNonvoter = "nonvoter"
)

// Member is what every node knows about every other: how to reach it over
// raft, its admin API and its intra-cluster SIP address, and its role.
// The leader writes ID, RaftAddr and Suffrage when a member is added; each
// node writes the rest of its own entry when it is ready and whenever it
// changes.
type Member struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr,omitempty"` // host:port of the raft transport
	AdminURL string `json:"admin_url,omitempty"` // http://host:port of the admin API
	// SIPAddr is the SIP URI other nodes use to reach this node inside
	// the cluster, e.g. "sip:10.0.0.2:5060;transport=tcp".
	SIPAddr string `json:"sip_addr,omitempty"`
	// SIPListen lists the node's client listeners (comma-separated SIP
	// URIs): where a director redirects a user's REGISTER.
	SIPListen string `json:"sip_listen,omitempty"`
	Role      string `json:"role,omitempty"`     // home, director, edge
	Suffrage  string `json:"suffrage,omitempty"` // voter (default) or nonvoter
	// LogVersion is the newest log format the member's binary applies
	// (state.LogVersion); 0 for a binary from before it was published.
	LogVersion int `json:"log_version,omitempty"`
}

// MemberPut creates or updates a member entry. Empty fields of Member keep
// the stored value, so the leader and the node itself can each write what
// they know.
type MemberPut struct {
	Member Member `json:"member"`
}

// MemberDelete forgets a member (it was removed from the cluster).
type MemberDelete struct {
	ID string `json:"id"`
}

// Merge returns m with the non-empty fields of upd written over it.
func (m Member) Merge(upd Member) Member {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&m.ID, upd.ID)
	set(&m.RaftAddr, upd.RaftAddr)
	set(&m.AdminURL, upd.AdminURL)
	set(&m.SIPAddr, upd.SIPAddr)
	set(&m.SIPListen, upd.SIPListen)
	set(&m.Role, upd.Role)
	set(&m.Suffrage, upd.Suffrage)
	if upd.LogVersion != 0 {
		m.LogVersion = upd.LogVersion
	}
	return m
}

func applyMemberPut(s *State, c *Command) any {
	body, err := decodeBody[MemberPut](c)
	if err != nil {
		return err
	}
	m := body.Member
	if m.ID == "" {
		return fmt.Errorf("%w: member without id", ErrInvalid)
	}
	switch m.Suffrage {
	case "", SuffrageVoter, SuffrageNonvoter:
	default:
		return fmt.Errorf("%w: member %s: suffrage %q (want voter or nonvoter)", ErrInvalid, m.ID, m.Suffrage)
	}
	old := s.members[m.ID]
	merged := old.Merge(m)
	if merged == old {
		return nil
	}
	s.members[m.ID] = merged
	s.membersGen.Add(1)
	s.changed(MembersChanged, "")
	return nil
}

func applyMemberDelete(s *State, c *Command) any {
	body, err := decodeBody[MemberDelete](c)
	if err != nil {
		return err
	}
	if _, ok := s.members[body.ID]; !ok {
		return fmt.Errorf("%w: member %s", ErrNotFound, body.ID)
	}
	delete(s.members, body.ID)
	s.membersGen.Add(1)
	s.changed(MembersChanged, "")
	return nil
}

// MembersGen changes whenever the member table does (a put that changes
// an entry, a delete, a restore): a reader caching what it derives from
// Members or ClusterLogVersion reads it first, derives, and derives again
// once it differs. It takes no lock.
func (s *State) MembersGen() uint64 { return s.membersGen.Load() }

// Members returns every known member sorted by ID.
func (s *State) Members() []Member {
	s.mu.RLock()
	out := make([]Member, 0, len(s.members))
	for _, m := range s.members {
		out = append(out, m)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Member returns one member's entry.
func (s *State) Member(id string) (Member, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, ok := s.members[id]
	return m, ok
}

// ClusterLogVersion is the oldest log format any member publishes
// (Member.LogVersion; 0 for a member from before it was published), or
// this binary's LogVersion when the table is empty (a node before its
// first member entry). self, the asking node, is left out: it runs this
// binary, and its own entry may not say so yet (the leader writes a new
// member's entry before the member publishes its version). A writer
// uses a newer form only when this allows.
func (s *State) ClusterLogVersion(self string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := LogVersion
	for id, m := range s.members {
		if id != self && m.LogVersion < v {
			v = m.LogVersion
		}
	}
	return v
}
