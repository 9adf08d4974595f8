package raftnode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// ErrNoQuorum is a write that could not commit because too few members
// answer (a minority partition). Callers treat it like ErrNotLeader:
// retry later.
var ErrNoQuorum = errors.New("raftnode: no quorum")

// AddMember adds a server to the raft configuration; it must run on the
// leader. A voter takes part in elections and commits; a non-voter only
// receives the log.
func (n *Node) AddMember(ctx context.Context, id, raftAddr string, voter bool) error {
	timeout := defaultWriteTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	var f raft.IndexFuture
	if voter {
		f = n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, timeout)
	} else {
		f = n.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, timeout)
	}
	if err := f.Error(); err != nil {
		return fmt.Errorf("raftnode: add member %s: %w", id, mapRaftErr(err))
	}
	return nil
}
