package raftnode

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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

// Submit replicates a prepared command. An empty ReqID gets a fresh one;
// pass the same ReqID to retry a write safely.
func (n *Node) Submit(ctx context.Context, c state.Command) (any, error) {
	if c.ReqID == "" {
		c.ReqID = newReqID()
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
