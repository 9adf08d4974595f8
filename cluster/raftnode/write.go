package raftnode

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

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
	n.stamp(&c)
	data, err := c.Encode()
	if err != nil {
		return nil, err
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var res any
	err = n.withLeader(ctx, func() error {
		var err error
		if n.raft.State() == raft.Leader {
			res, err = n.applyGrouped(ctx, data)
		} else {
			res, err = n.forward(ctx, data)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("raftnode: write %s: %w", c.Type, err)
	}
	if e, ok := res.(error); ok {
		return nil, e
	}
	return res, nil
}

// stamp gives c a request id when it has none (a retry keeps its own),
// and this node's name and clock.
func (n *Node) stamp(c *state.Command) {
	if c.ReqID == "" {
		c.ReqID = newReqID()
	}
	c.Time = time.Now().UnixNano()
	c.Node = n.cfg.NodeID
}

// withLeader runs f until it succeeds or fails for a reason other than
// the leader (ErrNotLeader, ErrNoQuorum): those are retried, with backoff,
// while a leader may still appear. After leaderWait without a reachable
// leader it returns ErrNoQuorum; ctx bounds it all.
func (n *Node) withLeader(ctx context.Context, f func() error) error {
	var leaderless time.Time
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil || (!errors.Is(err, ErrNotLeader) && !errors.Is(err, ErrNoQuorum)) {
			return err
		}
		if addr, _ := n.raft.LeaderWithID(); addr == "" || errors.Is(err, ErrNoQuorum) {
			if leaderless.IsZero() {
				leaderless = time.Now()
			} else if time.Since(leaderless) > leaderWait {
				return errors.Join(ErrNoQuorum, err)
			}
		} else {
			leaderless = time.Time{}
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-n.done:
			return ErrClosed
		case <-time.After(retryDelay(attempt)):
		}
	}
}

// withDefaultTimeout gives ctx the default write deadline when it has none.
func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, defaultWriteTimeout)
}

// retryDelay backs off from 10 ms to 200 ms between write attempts.
func retryDelay(attempt int) time.Duration {
	return min(10*time.Millisecond<<min(attempt, 5), 200*time.Millisecond)
}

// reqIDPrefix makes this process's request ids unique among nodes and
// restarts: 64 random bits, drawn once.
var reqIDPrefix = func() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:]) + "-"
}()

var reqIDSeq atomic.Uint64

// newReqID returns a request id unique to this write: the process prefix
// and a counter (cheaper than a random UUID per write, and as unique).
func newReqID() string {
	return reqIDPrefix + strconv.FormatUint(reqIDSeq.Add(1), 36)
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
