package raftnode

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/raft"
)

type readIndexReply struct {
	Index uint64 `json:"index"`
	Code  string `json:"code,omitempty"`
	Error string `json:"error,omitempty"`
}

// ReadConsistent makes the reads that follow it on this node linearizable:
// it returns once this node has applied every write that completed
// anywhere in the cluster before it was called. The leader proves its
// leadership with a barrier (an entry of its term, committed by a
// quorum); a follower asks the leader for that barrier's index and waits
// until it has applied as far. Plain reads stay local and may be stale;
// use this for reads that decide authorization or uniqueness.
func (n *Node) ReadConsistent(ctx context.Context) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	err := n.withLeader(ctx, func() error {
		if n.raft.State() == raft.Leader {
			_, err := n.leaderReadIndex(ctx)
			return err
		}
		addr, _ := n.raft.LeaderWithID()
		if addr == "" {
			return ErrNoQuorum
		}
		var rep readIndexReply
		if err := n.call(ctx, string(addr), "/read-index", struct{}{}, &rep); err != nil {
			return err
		}
		if rep.Code != codeOK {
			return errOf(rep.Code, rep.Error)
		}
		_, _, err := n.res.wait(ctx, rep.Index, n.done)
		return err
	})
	if err != nil {
		return fmt.Errorf("raftnode: consistent read: %w", err)
	}
	return nil
}

// leaderReadIndex commits a barrier and returns the index of the last
// command applied, which covers every write acknowledged before.
func (n *Node) leaderReadIndex(ctx context.Context) (uint64, error) {
	dl, _ := ctx.Deadline()
	if err := n.raft.Barrier(time.Until(dl)).Error(); err != nil {
		return 0, fmt.Errorf("raftnode: barrier: %w", mapRaftErr(err))
	}
	return n.st.LastIndex(), nil
}

func (n *Node) handleReadIndex(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), defaultWriteTimeout)
	defer cancel()
	var rep readIndexReply
	if n.raft.State() != raft.Leader {
		rep = readIndexReply{Code: codeNotLeader, Error: "not the leader"}
	} else if idx, err := n.leaderReadIndex(ctx); err != nil {
		rep = readIndexReply{Code: codeOf(err), Error: err.Error()}
	} else {
		rep.Index = idx
	}
	writeJSON(w, rep)
}
