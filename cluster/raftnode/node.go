package raftnode

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/logging"
)

// Config configures a node.
type Config struct {
	NodeID  string
	DataDir string // raft files go to DataDir/raft
	Bind    string // host:port of the raft transport; also its advertised address
	// Store is the raft log and stable store: StoreWAL (the default when
	// empty) or StoreBolt. Opening with StoreWAL migrates a bolt store
	// found in the data directory.
	Store string
	// Bootstrap makes a node with no prior state start a one-node cluster.
	// A node that joins an existing cluster leaves it false and is added
	// by the leader (AddMember).
	Bootstrap bool
	// TLS, when set, makes every raft and forwarding connection mutual
	// TLS with it (see LoadTLS); nil means plain TCP.
	TLS *tls.Config
	// Self is this node's metadata, written to the replicated member
	// table once the node is ready (ID and RaftAddr are filled in).
	Self state.Member
	// SnapshotInterval and SnapshotThreshold: raft checks every interval
	// and snapshots when at least threshold entries were added since the
	// last one. Zero means 30 s and 8192.
	SnapshotInterval  time.Duration
	SnapshotThreshold uint64
	// TrailingLogs is how many entries a snapshot leaves in the log, so
	// a follower slightly behind catches up without a snapshot. Zero
	// means 10240.
	TrailingLogs uint64
	Logger       *slog.Logger

	// faults, in tests, cuts this node's connections to an address.
	faults func(addr string) bool
}

// Errors callers branch on.
var (
	ErrNotLeader = errors.New("raftnode: not the leader")
	ErrNotReady  = errors.New("raftnode: no leader yet")
	ErrClosed    = errors.New("raftnode: closed")
	// ErrNoQuorum: no leader can be reached, as on the minority side of
	// a partition or while a majority of voters is down. Writes fail
	// with it after leaderWait; local reads keep working. Answer it
	// with 503 and Retry-After.
	ErrNoQuorum = errors.New("raftnode: no quorum: no reachable leader")
)

// Node is one member of the raft cluster.
type Node struct {
	cfg   Config
	log   *slog.Logger
	st    *state.State
	raft  *raft.Raft
	trans *raft.NetworkTransport
	layer *muxLayer
	store logStore
	prog  *progress
	res   *results

	hadState  bool // the data directory held raft state at start
	fwdQ      chan *fwdReq
	groupQ    chan *groupReq // local writes waiting for the group commit (group.go)
	groupMu   sync.RWMutex   // groupShut against sends to groupQ
	groupShut bool           // the group loop has stopped: groupQ takes nothing more
	groupWG   sync.WaitGroup // the group loop and its completer; Close waits for them before raft stops
	batchOK   atomic.Bool    // every member applies CmdBatch, and this node leads
	leaving   atomic.Bool    // this node is removing itself: publishSelf keeps quiet
	fwdClient *http.Client
	fwdSrv    *http.Server

	caughtUp  atomic.Bool // the log present at start is applied
	closeOnce sync.Once
	done      chan struct{}
	bg        sync.WaitGroup // the node's goroutines; Close waits for them
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
	store, err := openStore(cfg.Store, dir, cfg.Logger)
	if err != nil {
		return nil, err
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 3, hl)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("raftnode: snapshot store: %w", err)
	}
	had, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("raftnode: inspect state: %w", err)
	}
	log := cfg.Logger.With("component", "raft")
	layer, err := newMuxLayer(cfg.Bind, cfg.TLS, log, cfg.faults)
	if err != nil {
		store.Close()
		return nil, err
	}
	trans := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: layer, MaxPool: 4, MaxRPCsInFlight: 1, Timeout: 10 * time.Second, Logger: hl,
	})
	logs, err := raft.NewLogCache(1024, store)
	if err != nil {
		trans.Close()
		store.Close()
		return nil, fmt.Errorf("raftnode: log cache: %w", err)
	}
	n := &Node{cfg: cfg, log: log, st: st, trans: trans, layer: layer, store: store,
		prog: &progress{}, res: newResults(), hadState: had,
		fwdQ: make(chan *fwdReq, maxFwdBatch), groupQ: make(chan *groupReq, groupQueue), fwdClient: newForwardClient(layer), done: make(chan struct{})}
	rc := raftConfig(cfg, hl)
	r, err := raft.NewRaft(rc, &fsm{st: st, res: n.res}, logs, store, snaps, &trackingTransport{Transport: trans, prog: n.prog})
	if err != nil {
		trans.Close()
		store.Close()
		return nil, fmt.Errorf("raftnode: start raft: %w", err)
	}
	n.raft = r
	n.serveForward()
	if cfg.Bootstrap && !had {
		if err := n.bootstrap(); err != nil {
			n.Close()
			return nil, err
		}
	}
	for range fwdWorkers {
		n.bg.Go(n.forwardLoop)
	}
	n.groupWG.Go(n.groupLoop)
	n.bg.Go(func() { n.every(groupCheckEvery, n.checkBatches) })
	n.bg.Go(n.catchUp)
	n.bg.Go(n.ensureSecret)
	n.bg.Go(n.promoteLoop)
	n.bg.Go(n.publishSelf)
	return n, nil
}

// HadState reports whether the data directory held raft state when the
// node opened: such a node is already a member and must not join again.
func (n *Node) HadState() bool { return n.hadState }

// Addr is the raft address other members reach this node at.
func (n *Node) Addr() string { return string(n.trans.LocalAddr()) }

// Timing. A follower that hears nothing from the leader for a random
// time between HeartbeatTimeout and twice that starts an election, so a
// dead leader is replaced in about 0.5-1.5 s and the new one commits
// within a few seconds. A leader that has not reached a quorum for
// LeaderLeaseTimeout steps down, so the minority side of a partition
// stops taking writes quickly. Loopback and LAN round trips are well
// below these; raise them for links slower than a few ms.
const (
	heartbeatTimeout   = 500 * time.Millisecond
	electionTimeout    = 500 * time.Millisecond
	leaderLeaseTimeout = 250 * time.Millisecond
)

func raftConfig(cfg Config, hl raftLogger) *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.Logger = hl
	rc.HeartbeatTimeout = heartbeatTimeout
	rc.ElectionTimeout = electionTimeout
	rc.LeaderLeaseTimeout = leaderLeaseTimeout
	rc.MaxAppendEntries = 512
	rc.BatchApplyCh = true
	rc.SnapshotThreshold = 8192
	rc.SnapshotInterval = 30 * time.Second
	if cfg.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = cfg.SnapshotThreshold
	}
	if cfg.SnapshotInterval > 0 {
		rc.SnapshotInterval = cfg.SnapshotInterval
	}
	rc.TrailingLogs = 10240
	if cfg.TrailingLogs > 0 {
		rc.TrailingLogs = cfg.TrailingLogs
	}
	// Followers learn the commit index from the next AppendEntries; an
	// idle leader sends one after CommitTimeout. Forwarded writes wait
	// for their local apply, so keep it short.
	rc.CommitTimeout = 5 * time.Millisecond
	return rc
}

func (n *Node) bootstrap() error {
	n.log.Info("bootstrapping a new cluster", "node", n.cfg.NodeID, "raft", n.cfg.Bind)
	f := n.raft.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{
		ID: raft.ServerID(n.cfg.NodeID), Address: n.trans.LocalAddr(), Suffrage: raft.Voter,
	}}})
	if err := f.Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		return fmt.Errorf("raftnode: bootstrap: %w", err)
	}
	return nil
}

// every calls f every d until the node closes or f returns true.
func (n *Node) every(d time.Duration, f func() (done bool)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-n.done:
			return
		case <-t.C:
		}
		if f() {
			return
		}
	}
}

// catchUp marks the node caught up once the entries committed before it
// started are applied: a leader proves it with a barrier, a follower when
// its applied index reaches the commit index its leader sent.
func (n *Node) catchUp() {
	n.every(20*time.Millisecond, func() bool {
		switch n.raft.State() {
		case raft.Leader:
			if n.raft.Barrier(5*time.Second).Error() != nil {
				return false
			}
		case raft.Follower:
			commit := n.raft.CommitIndex()
			if addr, _ := n.raft.LeaderWithID(); addr == "" || commit == 0 || n.raft.AppliedIndex() < commit {
				return false
			}
		default:
			return false
		}
		n.caughtUp.Store(true)
		return true
	})
}

// ensureSecret has the first leader create the cluster secret.
func (n *Node) ensureSecret() {
	n.every(100*time.Millisecond, func() bool {
		if len(n.st.Secret()) > 0 {
			return true
		}
		if n.raft.State() != raft.Leader {
			return false
		}
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			n.log.Error("cannot create cluster secret", "error", err)
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := n.Write(ctx, state.CmdMetaInit, state.MetaInit{Secret: secret}); err != nil {
			n.log.Warn("cluster secret not written yet", "error", err)
		}
		return false
	})
}

// State returns the replicated state this node applies to.
func (n *Node) State() *state.State { return n.st }

// Close stops raft and releases its files and ports. It returns once
// every goroutine the node started has ended.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		close(n.done)
		// The group commit's entry in flight is answered while raft
		// still runs: raft leaves a future still in its apply queue at
		// shutdown unanswered for good.
		n.groupWG.Wait()
		if e := n.raft.Shutdown().Error(); e != nil {
			err = fmt.Errorf("raftnode: shutdown: %w", e)
		}
		_ = n.fwdSrv.Close()
		n.fwdClient.CloseIdleConnections()
		n.trans.Close()
		n.layer.Close() // waits for the layer's own goroutines
		n.bg.Wait()
		if e := n.store.Close(); e != nil && err == nil {
			err = fmt.Errorf("raftnode: close store: %w", e)
		}
	})
	return err
}
