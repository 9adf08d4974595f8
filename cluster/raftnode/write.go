package raftnode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/parley-rtc/parley/cluster/state"
)

type raftLogger = hclog.Logger

// defaultWriteTimeout bounds a write whose context has no deadline.
const defaultWriteTimeout = 10 * time.Second

// Write replicates a command built from t and body and waits until it is
// applied here. An error value returned by the command's apply is returned
// as the error. A write that timed out may still commit later: commands
// are idempotent by request id, so the caller may retry.
func (n *Node) Write(ctx context.Context, t state.CommandType, body any) (any, error) {
	c, err := state.NewCommand(t, body)
	if err != nil {
		return nil, err
	}
	return n.Submit(ctx, c)
}

// leaderWait is how long a write waits for a leader to appear (an
// election takes one to two seconds) before it fails with ErrNoQuorum.
const leaderWait = 3 * time.Second

// Submit replicates a prepared command. An empty ReqID gets a fresh one;
// pass the same ReqID to retry a write safely. On a follower the command
// is forwarded to the leader, and Submit returns once it is committed and
// applied on this node. While there is no leader, or the leader changes,
// Submit retries with the same request id until ctx ends; after
// leaderWait without a reachable leader it fails with ErrNoQuorum.
func (n *Node) Submit(ctx context.Context, c state.Command) (any, error) {
	if c.ReqID == "" {
		c.ReqID = uuid.NewString()
	}
	c.Time = time.Now().UnixNano()
	c.Node = n.cfg.NodeID
	data, err := c.Encode()
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultWriteTimeout)
		defer cancel()
	}
	var leaderless time.Time
	for attempt := 0; ; attempt++ {
		var res any
		if n.raft.State() == raft.Leader {
			res, err = n.applyLocal(ctx, data)
		} else {
			res, err = n.forward(ctx, data)
		}
		if err == nil {
			if e, ok := res.(error); ok {
				return nil, e
			}
			return res, nil
		}
		if !errors.Is(err, ErrNotLeader) && !errors.Is(err, ErrNoQuorum) {
			return nil, fmt.Errorf("raftnode: write %s: %w", c.Type, err)
		}
		if addr, _ := n.raft.LeaderWithID(); addr == "" || errors.Is(err, ErrNoQuorum) {
			if leaderless.IsZero() {
				leaderless = time.Now()
			} else if time.Since(leaderless) > leaderWait {
				return nil, fmt.Errorf("raftnode: write %s: %w", c.Type, errors.Join(ErrNoQuorum, err))
			}
		} else {
			leaderless = time.Time{}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("raftnode: write %s: %w", c.Type, errors.Join(ctx.Err(), err))
		case <-n.done:
			return nil, ErrClosed
		case <-time.After(retryDelay(attempt)):
		}
	}
}

// retryDelay backs off from 10 ms to 200 ms between write attempts.
func retryDelay(attempt int) time.Duration {
	return min(10*time.Millisecond<<min(attempt, 5), 200*time.Millisecond)
}

// applyLocal appends data to the log as leader and waits for its apply.
func (n *Node) applyLocal(ctx context.Context, data []byte) (any, error) {
	dl, _ := ctx.Deadline()
	timeout := time.Until(dl)
	if timeout <= 0 {
		return nil, context.DeadlineExceeded
	}
	f := n.raft.Apply(data, timeout)
	if err := f.Error(); err != nil {
		return nil, mapRaftErr(err)
	}
	return f.Response(), nil
}

func mapRaftErr(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost),
		errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return errors.Join(ErrNotLeader, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return errors.Join(ErrClosed, err)
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return errors.Join(context.DeadlineExceeded, err)
	}
	return err
}
