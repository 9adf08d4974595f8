package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/raftnode"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
	"github.com/parley-rtc/parley/core/admin"
	"github.com/parley-rtc/parley/core/directory"
)

const testToken = "tok"

var testNow = time.Unix(1_700_000_000, 0)

type fakeCluster struct{}

func (fakeCluster) Ready() error { return nil }

func (fakeCluster) Status() raftnode.Status {
	return raftnode.Status{NodeID: "n1", State: "Leader", Leader: "n1", LeaderAddr: "10.0.0.1:8300", Term: 3,
		LastIndex: 42, AppliedIndex: 42, CommitIndex: 42, LastContact: "0",
		Members: []raftnode.Member{
			{ID: "n1", Address: "10.0.0.1:8300", Suffrage: "Voter", Leader: true, Role: "leader", Known: true, Term: 3,
				LastIndex: 42, Healthy: true, AdminURL: "http://10.0.0.1:8060", SIPAddr: "sip:10.0.0.1:8301;transport=tcp"},
			{ID: "n2", Address: "10.0.0.2:8300", Suffrage: "Voter", Role: "follower", Known: true, Term: 3,
				LastIndex: 40, Lag: 2, Healthy: true, AdminURL: "http://10.0.0.2:8060", SIPAddr: "sip:10.0.0.2:8301;transport=tcp"},
			{ID: "n3", Address: "10.0.0.3:8300", Suffrage: "Nonvoter", Role: "nonvoter", Known: true, Term: 3,
				LastContact: "12s", AdminURL: "http://10.0.0.3:8060"},
		}}
}

func (f fakeCluster) ClusterStatus(context.Context) raftnode.Status { return f.Status() }

func (fakeCluster) AddMember(_ context.Context, id, addr string, voter bool) error {
	if id == "n1" {
		return fmt.Errorf("member n1 exists elsewhere: %w", raftnode.ErrNoQuorum)
	}
	return nil
}

func (fakeCluster) RemoveMember(_ context.Context, id string) error {
	if id != "n2" && id != "n3" {
		return raftnode.ErrUnknownMember
	}
	return nil
}

func (fakeCluster) TransferLeadership(_ context.Context, id string) error {
	if id != "" && id != "n2" {
		return raftnode.ErrUnknownMember
	}
	return nil
}

// testServer runs the real admin handler over a fake writer.
type testServer struct {
	url string
	st  *state.State
	w   *statetest.Writer
	dir *directory.Directory
}

func newServer(t *testing.T) *testServer {
	t.Helper()
	st := state.New()
	w := statetest.NewWriter(st)
	dir := directory.New(st, w, []string{"example.com", "other.org"})
	h := admin.NewHandler(admin.Config{
		Token: testToken, Directory: dir, State: st, Cluster: fakeCluster{}, Members: fakeCluster{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow },
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testServer{url: srv.URL, st: st, w: w, dir: dir}
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs parleyctl against the server; env entries are KEY=VALUE and
// override the defaults PARLEY_ADMIN=<server> and PARLEY_TOKEN=<token>.
func (s *testServer) run(stdin string, args []string, env ...string) result {
	vars := map[string]string{"PARLEY_ADMIN": s.url, "PARLEY_TOKEN": testToken, "PARLEY_TOKEN_FILE": "/nonexistent"}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	var out, errb strings.Builder
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb, func(k string) string { return vars[k] })
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func (s *testServer) mustAdd(t *testing.T, name, password, display string) {
	t.Helper()
	if _, err := s.dir.Add(context.Background(), name, password, display); err != nil {
		t.Fatal(err)
	}
}

var timestamps = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)

// stable replaces timestamps, which the fake writer takes from the clock.
func stable(s string) string { return timestamps.ReplaceAllString(s, "<time>") }

func itoa(i int) string { return strconv.Itoa(i) }
