package node

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/raftnode"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/config"
)

// raftNodes holds the raft node of every node these tests started, by
// raft address.
var raftNodes sync.Map

func init() {
	onRaft = func(cfg config.Config, rn *raftnode.Node) { raftNodes.Store(cfg.RaftListen, rn) }
}

func raftOf(t *testing.T, n *testNode) *raftnode.Node {
	t.Helper()
	v, ok := raftNodes.Load(n.cfg.RaftListen)
	if !ok {
		t.Fatalf("no raft node for %s", n.cfg.NodeID)
	}
	return v.(*raftnode.Node)
}

// startCluster starts one in-process node per role; the first bootstraps
// and the others join it as voters. It returns once every node is ready
// and every node sees every member entry.
func startCluster(t *testing.T, roles ...string) []*testNode {
	t.Helper()
	return startClusterWith(t, nil, roles...)
}

// startClusterWith is startCluster with tweak applied to node i's
// configuration.
func startClusterWith(t *testing.T, tweak func(i int, c *config.Config), roles ...string) []*testNode {
	t.Helper()
	var nodes []*testNode
	for i, role := range roles {
		n := buildNode(t, func(c *config.Config) {
			c.NodeID, c.Role = fmt.Sprintf("n%d", i+1), role
			c.ClusterSIP = fmt.Sprintf("127.0.0.1:%d", freePort(t))
			if i > 0 {
				c.Join = nodes[0].admin // not bootstrapping: the leader adds it below
			}
			if tweak != nil {
				tweak(i, c)
			}
		})
		nodes = append(nodes, n)
		if i == 0 {
			n.start(t)
			continue
		}
		// Add it from the leader until it is ready (a leader may refuse a
		// member it cannot reach yet; where --join is implemented the node
		// also asks by itself, and adding a member twice is harmless).
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		added := make(chan struct{})
		go func() {
			defer close(added)
			for ctx.Err() == nil {
				actx, acancel := context.WithTimeout(ctx, 2*time.Second)
				err := raftOf(t, nodes[0]).AddMember(actx, n.cfg.NodeID, n.cfg.RaftListen, true)
				acancel()
				if err == nil {
					return
				}
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
		n.start(t)
		cancel()
		<-added
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, n := range nodes {
		for !linksPublished(raftOf(t, n).State().Members(), len(nodes)) {
			if time.Now().After(deadline) {
				t.Fatalf("%s sees members %+v", n.cfg.NodeID, raftOf(t, n).State().Members())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nodes
}

// linksPublished reports whether ms holds n members that published their
// cluster link and client listeners.
func linksPublished(ms []state.Member, n int) bool {
	ok := 0
	for _, m := range ms {
		if m.SIPAddr != "" && m.SIPListen != "" {
			ok++
		}
	}
	return ok >= n
}

// rawSIP sends one SIP message over a new TCP connection from local (an
// IP) to addr and returns the status line of the answer.
func rawSIP(t *testing.T, local, addr, msg string) string {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("no answer from %s: %v", addr, err)
	}
	return strings.TrimSpace(line)
}

// linkRequest is an OPTIONS to a user, with extra headers, as raw text.
func linkRequest(local string, port int, extra string) string {
	return fmt.Sprintf(`OPTIONS sip:bob@127.0.0.1:5999 SIP/2.0
Via: SIP/2.0/TCP %s:%d;rport;branch=z9hG4bK-%d
Max-Forwards: 70
From: <sip:alice@localhost>;tag=1
To: <sip:bob@localhost>
Call-ID: link-%d@test
CSeq: 1 OPTIONS
%sContent-Length: 0

`, local, port, time.Now().UnixNano(), time.Now().UnixNano(), extra)
}

// leaderOf returns the running node that leads the cluster now.
func leaderOf(t *testing.T, ns []*testNode) *testNode {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range ns {
			if n.cancel != nil && raftOf(t, n).IsLeader() {
				return n
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no leader")
	return nil
}

// addClusterUser creates a user through the leader (the admin API does
// not forward writes) and waits until every node has applied it.
func addClusterUser(t *testing.T, ns []*testNode, name, pw string) {
	t.Helper()
	leaderOf(t, ns).addUser(t, name, pw)
	deadline := time.Now().Add(5 * time.Second)
	for _, n := range ns {
		for {
			if _, ok := raftOf(t, n).State().User(name + "@localhost"); ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s does not see user %s", n.cfg.NodeID, name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
