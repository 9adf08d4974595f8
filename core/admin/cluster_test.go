package admin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-rtc/parley/cluster/raftnode"
)

// fakeMembers records membership calls and fails with err when set.
type fakeMembers struct {
	calls []string
	err   error
}

func (f *fakeMembers) AddMember(_ context.Context, id, addr string, voter bool) error {
	f.calls = append(f.calls, fmt.Sprintf("add %s %s %v", id, addr, voter))
	return f.err
}

func (f *fakeMembers) RemoveMember(_ context.Context, id string) error {
	f.calls = append(f.calls, "remove "+id)
	return f.err
}

func (f *fakeMembers) TransferLeadership(_ context.Context, id string) error {
	f.calls = append(f.calls, "transfer "+id)
	return f.err
}

func (f *fakeMembers) ClusterStatus(context.Context) raftnode.Status {
	return raftnode.Status{NodeID: "n2", State: "Follower", Leader: "n1",
		Members: []raftnode.Member{{ID: "n1", Role: "leader", Known: true, Healthy: true}, {ID: "n2", Role: "follower", Known: true, Lag: 3, Healthy: true}}}
}

func TestClusterMembership(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		err                      error
		code                     int
		call                     string // expected recorded call ("" = none)
		bodyHas                  string
	}{
		{name: "status from the leader's view", method: "GET", path: "/v1/cluster", code: 200, bodyHas: `"lag": 3`},
		{name: "add voter", method: "POST", path: "/v1/cluster/members", body: `{"id":"n3","raft_addr":"10.0.0.3:7060"}`,
			code: 200, call: "add n3 10.0.0.3:7060 true"},
		{name: "add non-voter", method: "POST", path: "/v1/cluster/members", body: `{"id":"r1","raft_addr":"10.0.0.9:7060","voter":false}`,
			code: 200, call: "add r1 10.0.0.9:7060 false"},
		{name: "add bad id", method: "POST", path: "/v1/cluster/members", body: `{"id":"n 3","raft_addr":"10.0.0.3:7060"}`,
			code: 400, bodyHas: "id:"},
		{name: "add without address", method: "POST", path: "/v1/cluster/members", body: `{"id":"n3"}`, code: 400, bodyHas: "raft_addr"},
		{name: "add without quorum", method: "POST", path: "/v1/cluster/members", body: `{"id":"n3","raft_addr":"10.0.0.3:7060"}`,
			err: fmt.Errorf("x: %w", raftnode.ErrNoQuorum), code: 503, call: "add n3 10.0.0.3:7060 true", bodyHas: "no quorum"},
		{name: "add unreachable", method: "POST", path: "/v1/cluster/members", body: `{"id":"n3","raft_addr":"10.0.0.3:7060"}`,
			err: fmt.Errorf("x: %w", raftnode.ErrMemberUnreachable), code: 400, call: "add n3 10.0.0.3:7060 true", bodyHas: "cannot add n3"},
		{name: "remove", method: "DELETE", path: "/v1/cluster/members/n3", code: 204, call: "remove n3"},
		{name: "remove unknown", method: "DELETE", path: "/v1/cluster/members/n9", err: raftnode.ErrUnknownMember,
			code: 404, call: "remove n9", bodyHas: "no cluster member n9"},
		{name: "transfer to any", method: "POST", path: "/v1/cluster/leader", code: 200, call: "transfer ", bodyHas: `"leader": "n1"`},
		{name: "transfer to n2", method: "POST", path: "/v1/cluster/leader", body: `{"id":"n2"}`, code: 200, call: "transfer n2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			fm := &fakeMembers{err: tt.err}
			e.h = NewHandler(Config{Token: testToken, Directory: e.dir, State: e.st, Cluster: e.cluster, Members: fm, Logger: discard()})
			r := e.do(tt.method, tt.path, tt.body)
			if r.code != tt.code || !strings.Contains(r.body, tt.bodyHas) {
				t.Fatalf("%d %s", r.code, r.body)
			}
			if got := strings.Join(fm.calls, ";"); got != tt.call {
				t.Fatalf("calls %q, want %q", got, tt.call)
			}
			if tt.code == http.StatusServiceUnavailable && r.header.Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
		})
	}
	// Without a membership implementation the routes do not exist.
	e := newEnv(t)
	if r := e.do("POST", "/v1/cluster/members", `{"id":"n3","raft_addr":"x:1"}`); r.code != 404 && r.code != 405 {
		t.Fatalf("without Members: %d %s", r.code, r.body)
	}
}
