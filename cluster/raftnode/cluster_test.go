package raftnode

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/parley-rtc/parley/cluster/state"
)

// testCluster is several in-process nodes on loopback TCP whose links a
// test can cut (a partition) and heal.
type testCluster struct {
	t     testing.TB
	mu    sync.Mutex
	cut   map[[2]string]bool // [from id, to addr]
	nodes []*Node
	addrs map[string]string // id -> raft address
	tls   map[string]*tls.Config
	dirs  map[string]string
	// defaultSnapshots keeps the production snapshot settings instead of
	// the tests' frequent small snapshots.
	defaultSnapshots bool
}

func newTestCluster(t testing.TB) *testCluster {
	return &testCluster{t: t, cut: map[[2]string]bool{}, addrs: map[string]string{}, tls: map[string]*tls.Config{}, dirs: map[string]string{}}
}

// open starts node id (bootstrapping when boot) on its address and dir,
// reusing both when the node ran before.
func (c *testCluster) open(id string, boot bool) *Node {
	c.t.Helper()
	if c.addrs[id] == "" {
		c.addrs[id], c.dirs[id] = freeAddr(c.t), c.t.TempDir()
	}
	cfg := Config{
		NodeID: id, DataDir: c.dirs[id], Bind: c.addrs[id], Bootstrap: boot, TLS: c.tls[id],
		Self: state.Member{AdminURL: "http://" + id + ".test", SIPAddr: "sip:" + id + ".test;transport=tcp", Role: "home"},
		faults: func(addr string) bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.cut[[2]string{id, addr}]
		},
	}
	if !c.defaultSnapshots {
		cfg.SnapshotInterval, cfg.SnapshotThreshold, cfg.TrailingLogs = 200*time.Millisecond, 100, 20
	}
	n, err := Open(cfg, state.New())
	if err != nil {
		c.t.Fatal(err)
	}
	c.nodes = append(c.nodes, n)
	c.t.Cleanup(func() { n.Close() })
	return n
}

// start bootstraps n1 and joins n2..n<size> through the given members,
// then waits until all are voters.
func (c *testCluster) start(size int) []*Node {
	c.t.Helper()
	first := c.open("n1", true)
	waitReady(c.t, first)
	nodes := []*Node{first}
	for i := 2; i <= size; i++ {
		id := fmt.Sprintf("n%d", i)
		n := c.open(id, false)
		via := nodes[len(nodes)-1] // the newest member: often a follower
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := via.AddMember(ctx, id, n.Addr(), true); err != nil {
			c.t.Fatalf("join %s via %s: %v", id, via.cfg.NodeID, err)
		}
		cancel()
		waitReady(c.t, n)
		nodes = append(nodes, n)
	}
	c.waitVoters(first, size)
	return nodes
}

func (c *testCluster) waitVoters(n *Node, want int) {
	c.t.Helper()
	eventually(c.t, 15*time.Second, func() error {
		cfg, err := n.configuration()
		if err != nil {
			return err
		}
		voters := 0
		for _, s := range cfg.Servers {
			if s.Suffrage == raft.Voter {
				voters++
			}
		}
		if voters != want {
			return fmt.Errorf("%d voters of %d servers, want %d", voters, len(cfg.Servers), want)
		}
		return nil
	})
}

// partition cuts every link between id and the others, both ways.
func (c *testCluster) partition(id string, cut bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for other, addr := range c.addrs {
		if other != id {
			c.cut[[2]string{id, addr}] = cut
			c.cut[[2]string{other, c.addrs[id]}] = cut
		}
	}
}

// others returns nodes without l, in their order.
func others(nodes []*Node, l *Node) []*Node {
	var out []*Node
	for _, n := range nodes {
		if n != l {
			out = append(out, n)
		}
	}
	return out
}

func leaderOf(t testing.TB, nodes []*Node) *Node {
	t.Helper()
	var l *Node
	eventually(t, 10*time.Second, func() error {
		for _, n := range nodes {
			if n.IsLeader() {
				l = n
				return nil
			}
		}
		return errors.New("no leader")
	})
	return l
}

func waitReady(t testing.TB, n *Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		t.Fatalf("%s: %v", n.cfg.NodeID, err)
	}
}

// eventually retries f every 50 ms until it returns nil or limit passes.
func eventually(t testing.TB, limit time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func putUser(ctx context.Context, n *Node, name string) error {
	u := state.User{Username: name, Domain: "localhost", Enabled: true}
	_, err := n.Write(ctx, state.CmdUserPut, state.UserPut{Users: []state.User{u}})
	return err
}

func hasUser(n *Node, name string) bool {
	_, ok := n.State().User(name + "@localhost")
	return ok
}

func createUser(ctx context.Context, n *Node, name string) error {
	u := state.User{Username: name, Domain: "localhost", Enabled: true}
	_, err := n.Write(ctx, state.CmdUserPut, state.UserPut{Users: []state.User{u}, Create: true})
	return err
}
