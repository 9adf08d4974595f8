package raftnode

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/logging"
)

// Config configures a node.
type Config struct {
	NodeID  string
	DataDir string // raft files go to DataDir/raft
	Bind    string // host:port of the raft transport
	// Bootstrap makes a node with no prior state start a one-node cluster.
	Bootstrap bool
	Logger    *slog.Logger
}

// Errors callers branch on.
var (
	ErrNotLeader = errors.New("raftnode: not the leader")
	ErrNotReady  = errors.New("raftnode: no leader yet")
	ErrClosed    = errors.New("raftnode: closed")
)

// Node is one member of the raft cluster.
type Node struct {
	cfg   Config
	log   *slog.Logger
	st    *state.State
	raft  *raft.Raft
	trans *raft.NetworkTransport
	store *raftboltdb.BoltStore

	caughtUp  atomic.Bool // the log present at start is applied
	closeOnce sync.Once
	done      chan struct{}
}

// Open starts the node over st, which must be empty: raft replays the
// snapshot and log into it.
func Open(cfg Config, st *state.State) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	dir := filepath.Join(cfg.DataDir, "raft")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("raftnode: data dir: %w", err)
	}
	hl := logging.HCLog(cfg.Logger, "raft", slog.LevelInfo)
	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
	if err != nil {
		return nil, fmt.Errorf("raftnode: open log store: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 3, hl)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("raftnode: snapshot store: %w", err)
	}
	addr, err := net.ResolveTCPAddr("tcp", cfg.Bind)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("raftnode: raft address %q: %w", cfg.Bind, err)
	}
	trans, err := raft.NewTCPTransportWithLogger(cfg.Bind, addr, 4, 10*time.Second, hl)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("raftnode: listen %s: %w", cfg.Bind, err)
	}
	logs, err := raft.NewLogCache(1024, store)
	if err != nil {
		trans.Close()
		store.Close()
		return nil, fmt.Errorf("raftnode: log cache: %w", err)
	}
	rc := raftConfig(cfg.NodeID, hl)
	r, err := raft.NewRaft(rc, &fsm{st: st}, logs, store, snaps, trans)
	if err != nil {
		trans.Close()
		store.Close()
		return nil, fmt.Errorf("raftnode: start raft: %w", err)
	}
	n := &Node{cfg: cfg, log: cfg.Logger.With("component", "raft"), st: st, raft: r, trans: trans, store: store, done: make(chan struct{})}
	if cfg.Bootstrap {
		if err := n.bootstrap(); err != nil {
			n.Close()
			return nil, err
		}
	}
	go n.catchUp()
	go n.ensureSecret()
	return n, nil
}

func raftConfig(id string, hl raftLogger) *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(id)
	rc.Logger = hl
	rc.HeartbeatTimeout = 500 * time.Millisecond
	rc.ElectionTimeout = 500 * time.Millisecond
	rc.LeaderLeaseTimeout = 250 * time.Millisecond
	rc.MaxAppendEntries = 512
	rc.BatchApplyCh = true
	rc.SnapshotThreshold = 16384
	rc.SnapshotInterval = 2 * time.Minute
	rc.TrailingLogs = 10240
	return rc
}

func (n *Node) bootstrap() error {
	has, err := raft.HasExistingState(n.store, n.store, nopSnapshots{})
	if err != nil {
		return fmt.Errorf("raftnode: inspect state: %w", err)
	}
	if has {
		return nil
	}
	n.log.Info("bootstrapping a new cluster", "node", n.cfg.NodeID, "raft", n.cfg.Bind)
	f := n.raft.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{
		ID: raft.ServerID(n.cfg.NodeID), Address: n.trans.LocalAddr(), Suffrage: raft.Voter,
	}}})
	if err := f.Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		return fmt.Errorf("raftnode: bootstrap: %w", err)
	}
	return nil
}

// catchUp marks the node caught up once the entries committed before it
// started are applied: a leader proves it with a barrier, a follower when
// its applied index reaches the commit index its leader sent.
func (n *Node) catchUp() {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-n.done:
			return
		case <-t.C:
		}
		switch n.raft.State() {
		case raft.Leader:
			if n.raft.Barrier(5*time.Second).Error() == nil {
				n.caughtUp.Store(true)
				return
			}
		case raft.Follower:
			commit := parseU(n.raft.Stats()["commit_index"])
			if addr, _ := n.raft.LeaderWithID(); addr != "" && commit > 0 && n.raft.AppliedIndex() >= commit {
				n.caughtUp.Store(true)
				return
			}
		}
	}
}

// ensureSecret has the first leader create the cluster secret.
func (n *Node) ensureSecret() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-n.done:
			return
		case <-t.C:
		}
		if len(n.st.Secret()) > 0 {
			return
		}
		if n.raft.State() != raft.Leader {
			continue
		}
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			n.log.Error("cannot create cluster secret", "error", err)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := n.Write(ctx, state.CmdMetaInit, state.MetaInit{Secret: secret}); err != nil {
			n.log.Warn("cluster secret not written yet", "error", err)
		}
		cancel()
	}
}

// State returns the replicated state this node applies to.
func (n *Node) State() *state.State { return n.st }

// Close stops raft and releases its files and ports.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		close(n.done)
		if e := n.raft.Shutdown().Error(); e != nil {
			err = fmt.Errorf("raftnode: shutdown: %w", e)
		}
		n.trans.Close()
		if e := n.store.Close(); e != nil && err == nil {
			err = fmt.Errorf("raftnode: close store: %w", e)
		}
	})
	return err
}
