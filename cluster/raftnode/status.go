package raftnode

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/raft"
)

// Member is one server of the raft configuration as status reports it.
// Progress fields (LastIndex, Lag, Healthy, LastContact) are the leader's
// view; Known is false when this answer came from a node that does not
// lead and could not ask the leader.
type Member struct {
	ID       string `json:"id"`
	Address  string `json:"address"`
	Suffrage string `json:"suffrage"` // Voter, Nonvoter, Staging
	Leader   bool   `json:"leader"`
	// Role is leader, follower or nonvoter.
	Role        string `json:"role"`
	Known       bool   `json:"known"`
	Term        uint64 `json:"term,omitempty"` // the leader's term, which a healthy member follows
	LastIndex   uint64 `json:"last_index"`
	Lag         uint64 `json:"lag"` // entries behind the leader's last index
	Healthy     bool   `json:"healthy"`
	LastContact string `json:"last_contact,omitempty"` // how long ago it last answered the leader
	AdminURL    string `json:"admin_url,omitempty"`
	SIPAddr     string `json:"sip_addr,omitempty"`
	NodeRole    string `json:"node_role,omitempty"` // home, director, edge
	// LogVersion is the newest log format the member's binary applies
	// (state.LogVersion), 0 when it did not say.
	LogVersion int `json:"log_version,omitempty"`
}

// Status is what `parleyctl cluster status` shows.
type Status struct {
	NodeID       string   `json:"node_id"`
	State        string   `json:"state"` // Leader, Follower, Candidate, Shutdown
	Leader       string   `json:"leader"`
	LeaderAddr   string   `json:"leader_addr"`
	Term         uint64   `json:"term"`
	LastIndex    uint64   `json:"last_index"`
	AppliedIndex uint64   `json:"applied_index"`
	CommitIndex  uint64   `json:"commit_index"`
	LastContact  string   `json:"last_contact"`
	Members      []Member `json:"members"`
}

// Status reports this node's view of the cluster. Only the leader knows
// every member's progress; see ClusterStatus.
func (n *Node) Status() Status {
	stats := n.raft.Stats()
	addr, id := n.raft.LeaderWithID()
	st := Status{
		NodeID:       n.cfg.NodeID,
		State:        n.raft.State().String(),
		Leader:       string(id),
		LeaderAddr:   string(addr),
		Term:         n.raft.CurrentTerm(),
		LastIndex:    n.raft.LastIndex(),
		AppliedIndex: n.raft.AppliedIndex(),
		CommitIndex:  n.raft.CommitIndex(),
		LastContact:  stats["last_contact"],
	}
	leading := n.raft.State() == raft.Leader
	cfg, err := n.configuration()
	if err != nil {
		return st
	}
	for _, s := range cfg.Servers {
		m := Member{ID: string(s.ID), Address: string(s.Address), Suffrage: s.Suffrage.String(), Leader: s.ID == id}
		switch {
		case m.Leader:
			m.Role = "leader"
		case s.Suffrage == raft.Voter:
			m.Role = "follower"
		default:
			m.Role = "nonvoter"
		}
		if meta, ok := n.st.Member(m.ID); ok {
			m.AdminURL, m.SIPAddr, m.NodeRole, m.LogVersion = meta.AdminURL, meta.SIPAddr, meta.Role, meta.LogVersion
		}
		if leading {
			m.Known, m.Term = true, st.Term
			if string(s.ID) == n.cfg.NodeID {
				m.LastIndex, m.Healthy = st.LastIndex, true
			} else if p, ok := n.prog.get(s.ID); ok {
				age := time.Since(p.contact)
				m.LastIndex, m.Healthy = p.lastLog, age < healthyContact
				m.LastContact = age.Round(time.Millisecond).String()
			}
			if st.LastIndex > m.LastIndex {
				m.Lag = st.LastIndex - m.LastIndex
			}
		}
		st.Members = append(st.Members, m)
	}
	return st
}

// statusTimeout bounds asking the leader for the member table.
const statusTimeout = 2 * time.Second

// ClusterStatus is Status with every member's progress: on a follower it
// takes the member list from the leader. Without a reachable leader it
// returns the local view (members not Known).
func (n *Node) ClusterStatus(ctx context.Context) Status {
	st := n.Status()
	if n.raft.State() == raft.Leader || st.LeaderAddr == "" {
		return st
	}
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	var ls Status
	if err := n.call(ctx, st.LeaderAddr, "/status", struct{}{}, &ls); err != nil {
		n.log.Debug("leader status unavailable", "error", err)
		return st
	}
	st.Members = ls.Members
	return st
}

func (n *Node) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, n.Status())
}

// IsLeader reports whether this node leads the cluster now.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Ready returns nil once the cluster has a leader and the cluster secret
// exists, so the node can authenticate and accept writes.
func (n *Node) Ready() error {
	if addr, _ := n.raft.LeaderWithID(); addr == "" {
		return ErrNotReady
	}
	if !n.caughtUp.Load() {
		return fmt.Errorf("%w: replaying the log", ErrNotReady)
	}
	if len(n.st.Secret()) == 0 {
		return fmt.Errorf("%w: cluster secret not created", ErrNotReady)
	}
	return nil
}

// WaitReady blocks until Ready returns nil or ctx ends.
func (n *Node) WaitReady(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if err := n.Ready(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("raftnode: wait ready: %w", ctx.Err())
		case <-n.done:
			return ErrClosed
		case <-t.C:
		}
	}
}
