package raftnode

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// Submit replicates a prepared command. An empty ReqID gets a fresh one;
// pass the same ReqID to retry a write safely.
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
	timeout := defaultWriteTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
		if timeout <= 0 {
			return nil, fmt.Errorf("raftnode: write %s: %w", c.Type, context.DeadlineExceeded)
		}
	}
	f := n.raft.Apply(data, timeout)
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("raftnode: write %s: %w", c.Type, mapRaftErr(err))
	}
	res := f.Response()
	if err, ok := res.(error); ok {
		return nil, err
	}
	return res, nil
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

// nopSnapshots lets HasExistingState look at the log and stable stores
// only; the log always has entries once a snapshot exists.
type nopSnapshots struct{}

func (nopSnapshots) Create(raft.SnapshotVersion, uint64, uint64, raft.Configuration, uint64, raft.Transport) (raft.SnapshotSink, error) {
	return nil, errors.New("raftnode: no snapshots here")
}
func (nopSnapshots) List() ([]*raft.SnapshotMeta, error) { return nil, nil }
func (nopSnapshots) Open(string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	return nil, nil, errors.New("raftnode: no snapshots here")
}
