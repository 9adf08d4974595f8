package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-rtc/parley/cluster/raftnode"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
	"github.com/parley-rtc/parley/core/directory"
)

const testToken = "s3cret-token"

var testNow = time.Unix(1_700_000_000, 0)

type fakeCluster struct{ ready error }

func (f *fakeCluster) Ready() error { return f.ready }

func (f *fakeCluster) Status() raftnode.Status {
	return raftnode.Status{NodeID: "n1", State: "Leader", Leader: "n1", LeaderAddr: "127.0.0.1:8300", Term: 2,
		LastIndex: 10, AppliedIndex: 10, CommitIndex: 10,
		Members: []raftnode.Member{{ID: "n1", Address: "127.0.0.1:8300", Suffrage: "Voter", Leader: true}}}
}

type env struct {
	h       http.Handler
	st      *state.State
	w       *statetest.Writer
	cluster *fakeCluster
	dir     *directory.Directory
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st := state.New()
	w := statetest.NewWriter(st)
	e := &env{st: st, w: w, cluster: &fakeCluster{}, dir: directory.New(st, w, []string{"example.com", "other.org"})}
	e.h = NewHandler(Config{
		Token: testToken, Directory: e.dir, State: st, Cluster: e.cluster,
		Registry: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return testNow },
	})
	return e
}

type reply struct {
	code   int
	header http.Header
	body   string
}

// do sends a request; hdr holds header pairs, "Content-Type" defaults to
// application/json when body is set and the token is sent unless hdr
// sets Authorization.
func (e *env) do(method, path, body string, hdr ...string) reply {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Authorization", "Bearer "+testToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return reply{code: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

func (e *env) addUser(t testing.TB, name string) {
	t.Helper()
	if r := e.do("POST", "/v1/users", `{"username":"`+name+`","password":"pw"}`); r.code != http.StatusCreated {
		t.Fatalf("create %s: %d %s", name, r.code, r.body)
	}
}

// errorOf returns the "error" member of a JSON error body, failing the
// test if the body is not one.
func errorOf(t testing.TB, r reply) string {
	t.Helper()
	var v struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || v.Error == "" {
		t.Fatalf("status %d body %q is not a JSON error", r.code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error content type %q", ct)
	}
	return v.Error
}

func decode[T any](t testing.TB, r reply) T {
	t.Helper()
	var v T
	if err := json.NewDecoder(bytes.NewReader([]byte(r.body))).Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
	return v
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func (e *env) registry() *prometheus.Registry {
	return e.h.(*server).cfg.Registry
}

// stopAfter lets `left` writes through, then fails with err.
type stopAfter struct {
	w    state.Writer
	left int
	err  error
}

func (s *stopAfter) Write(ctx context.Context, t state.CommandType, body any) (any, error) {
	if s.left == 0 {
		return nil, s.err
	}
	s.left--
	return s.w.Write(ctx, t, body)
}

func newDirectory(st *state.State, w state.Writer) *directory.Directory {
	return directory.New(st, w, []string{"example.com", "other.org"})
}

func itoa(i int) string { return strconv.Itoa(i) }
