package raftnode

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
)

// Member is one server of the raft configuration.
type Member struct {
	ID       string `json:"id"`
	Address  string `json:"address"`
	Suffrage string `json:"suffrage"` // Voter, Nonvoter, Staging
	Leader   bool   `json:"leader"`
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

// Status reports this node's view of the cluster.
func (n *Node) Status() Status {
	stats := n.raft.Stats()
	addr, id := n.raft.LeaderWithID()
	st := Status{
		NodeID:       n.cfg.NodeID,
		State:        n.raft.State().String(),
		Leader:       string(id),
		LeaderAddr:   string(addr),
		Term:         parseU(stats["term"]),
		LastIndex:    n.raft.LastIndex(),
		AppliedIndex: n.raft.AppliedIndex(),
		CommitIndex:  parseU(stats["commit_index"]),
		LastContact:  stats["last_contact"],
	}
	if f := n.raft.GetConfiguration(); f.Error() == nil {
		for _, s := range f.Configuration().Servers {
			st.Members = append(st.Members, Member{
				ID: string(s.ID), Address: string(s.Address), Suffrage: s.Suffrage.String(), Leader: s.ID == id,
			})
		}
	}
	return st
}

func parseU(s string) uint64 {
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
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
