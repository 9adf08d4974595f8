package raftnode

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/internal/testpki"
)

// TestTLSClusterRefusesStrangers: members with certificates from the
// cluster CA form a cluster; a node whose certificate comes from another
// CA, or a client without one, can neither join nor inject a write or a
// raft RPC.
func TestTLSClusterRefusesStrangers(t *testing.T) {
	ca, other := testpki.NewCA(t, "cluster-ca"), testpki.NewCA(t, "other-ca")
	c := newTestCluster(t)
	for _, id := range []string{"n1", "n2", "n3"} {
		c.tls[id] = ClusterTLS(ca.Issue(t, id, x509.ExtKeyUsageServerAuth), ca.Pool)
	}
	c.tls["evil"] = ClusterTLS(other.Issue(t, "evil", x509.ExtKeyUsageServerAuth), other.Pool)
	nodes := c.start(3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := putUser(ctx, nodes[2], "member-write"); err != nil {
		t.Fatal(err)
	}
	l := leaderOf(t, nodes)
	before := l.State().LastIndex()

	evil := c.open("evil", false)
	// Forwarded write from a node with a foreign certificate.
	data := mustCommand(t, "evil-write")
	var rep applyReply
	if err := evil.call(ctx, l.Addr(), "/apply", applyRequest{Cmds: [][]byte{data}}, &rep); err == nil {
		t.Fatalf("foreign certificate: forwarded write accepted: %+v", rep)
	}
	// A raft RPC (an AppendEntries claiming a higher term).
	var resp raft.AppendEntriesResponse
	req := &raft.AppendEntriesRequest{RPCHeader: raft.RPCHeader{ID: []byte("evil"), Addr: []byte(evil.Addr())},
		Term: 1000, Entries: []*raft.Log{{Index: before + 1, Term: 1000, Type: raft.LogCommand, Data: data}}, LeaderCommitIndex: before + 1}
	if err := evil.trans.AppendEntries("n1", raft.ServerAddress(l.Addr()), req, &resp); err == nil {
		t.Fatal("foreign certificate: AppendEntries accepted")
	}
	// No certificate at all, TLS or plain.
	if _, err := tls.Dial("tcp", l.Addr(), &tls.Config{InsecureSkipVerify: true}); err == nil {
		if err := plainApply(l.Addr(), data, true); err == nil {
			t.Fatal("TLS client without certificate injected a write")
		}
	}
	if err := plainApply(l.Addr(), data, false); err == nil {
		t.Fatal("plain TCP client injected a write")
	}
	// Asked to add the stranger, the leader refuses: it cannot talk to it.
	if err := nodes[1].AddMember(ctx, "evil", evil.Addr(), true); !errors.Is(err, ErrMemberUnreachable) {
		t.Fatalf("adding a node with a foreign certificate: %v, want ErrMemberUnreachable", err)
	}
	if cfg, _ := l.configuration(); len(cfg.Servers) != 3 {
		t.Fatalf("configuration has %d servers", len(cfg.Servers))
	}
	time.Sleep(500 * time.Millisecond)
	if evil.Ready() == nil || hasUser(evil, "member-write") {
		t.Fatal("the stranger received the cluster's log")
	}
	if err := putUser(ctx, nodes[0], "after"); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if hasUser(n, "evil-write") {
			t.Fatalf("%s applied the injected write", n.cfg.NodeID)
		}
	}
}

func mustCommand(t testing.TB, user string) []byte {
	t.Helper()
	c, err := state.NewCommand(state.CmdUserPut, state.UserPut{Users: []state.User{{Username: user, Domain: "localhost"}}})
	if err != nil {
		t.Fatal(err)
	}
	c.ReqID = user
	data, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// plainApply sends a forwarded write without a client certificate.
func plainApply(addr string, data []byte, useTLS bool) error {
	var conn net.Conn
	var err error
	if useTLS {
		conn, err = tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	} else {
		conn, err = net.DialTimeout("tcp", addr, 2*time.Second)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	body, _ := json.Marshal(applyRequest{Cmds: [][]byte{data}})
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/apply", strings.NewReader(string(body)))
	if _, err := conn.Write([]byte{streamForward}); err != nil {
		return err
	}
	if err := req.Write(conn); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
