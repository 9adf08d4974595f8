package admin

import (
	"strings"
	"testing"

	"github.com/parley-rtc/parley/cluster/raftnode"
)

func TestAuthAndRouting(t *testing.T) {
	tests := []struct {
		name, method, path string
		hdr                []string
		want               int
		wantErr            string
	}{
		{"healthz without token", "GET", "/healthz", []string{"Authorization", ""}, 200, ""},
		{"metrics without token", "GET", "/metrics", []string{"Authorization", ""}, 200, ""},
		{"no token", "GET", "/v1/users", []string{"Authorization", ""}, 401, "bearer token"},
		{"wrong token", "GET", "/v1/users", []string{"Authorization", "Bearer nope"}, 401, "bearer token"},
		{"token prefix", "GET", "/v1/users", []string{"Authorization", "Bearer s3cret"}, 401, "bearer token"},
		{"basic scheme", "GET", "/v1/users", []string{"Authorization", "Basic " + testToken}, 401, "bearer token"},
		{"lower-case scheme", "GET", "/v1/users", []string{"Authorization", "bearer " + testToken}, 200, ""},
		{"unknown v1 path needs token first", "GET", "/v1/nothing", []string{"Authorization", ""}, 401, "bearer token"},
		{"unknown v1 path", "GET", "/v1/nothing", nil, 404, "no such endpoint"},
		{"unknown path", "GET", "/nothing", nil, 404, "no such endpoint"},
		{"wrong method", "PATCH", "/v1/users", nil, 405, "use GET, POST"},
		{"wrong method on item", "POST", "/v1/users/alice", nil, 405, "use GET, DELETE"},
		{"wrong method on healthz", "POST", "/healthz", nil, 405, "use GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.do(tt.method, tt.path, "", tt.hdr...)
			if r.code != tt.want {
				t.Fatalf("status %d, want %d: %s", r.code, tt.want, r.body)
			}
			if tt.wantErr != "" {
				if msg := errorOf(t, r); !strings.Contains(msg, tt.wantErr) {
					t.Fatalf("error %q, want %q", msg, tt.wantErr)
				}
			}
			if tt.want == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}

func TestNoTokenConfiguredRefusesAll(t *testing.T) {
	e := newEnv(t)
	e.h = NewHandler(Config{Directory: e.dir, State: e.st, Logger: discard()})
	for _, auth := range []string{"", "Bearer ", "Bearer  "} {
		if r := e.do("GET", "/v1/users", "", "Authorization", auth); r.code != 401 {
			t.Fatalf("auth %q: %d", auth, r.code)
		}
	}
	if err := (Config{}).Validate(); err != ErrNoToken {
		t.Fatalf("Validate = %v", err)
	}
	// Without a directory /v1 is refused rather than crashing.
	e.h = NewHandler(Config{Token: testToken, Logger: discard()})
	if r := e.do("POST", "/v1/users", `{"username":"a","password":"b"}`); r.code != 503 {
		t.Fatalf("no directory: %d %s", r.code, r.body)
	}
}

func TestReadyz(t *testing.T) {
	e := newEnv(t)
	if r := e.do("GET", "/readyz", ""); r.code != 200 || r.body != "ok\n" {
		t.Fatalf("ready: %d %q", r.code, r.body)
	}
	e.cluster.ready = raftnode.ErrNotReady
	r := e.do("GET", "/readyz", "")
	if r.code != 503 || !strings.Contains(errorOf(t, r), "no leader") {
		t.Fatalf("not ready: %d %q", r.code, r.body)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/v1/users", "")
	e.do("GET", "/v1/users", "", "Authorization", "")
	r := e.do("GET", "/metrics", "")
	for _, want := range []string{
		`parley_admin_requests_total{code="200",route="GET /v1/users"} 1`,
		`parley_admin_requests_total{code="401",route="GET /v1/users"} 1`,
	} {
		if !strings.Contains(r.body, want) {
			t.Fatalf("metrics lack %q:\n%s", want, r.body)
		}
	}
	// A second handler on the same registry shares the counter.
	NewHandler(Config{Token: "x", Directory: e.dir, State: e.st, Registry: e.registry(), Logger: discard()})
}

func TestWriteWithoutLeader(t *testing.T) {
	e := newEnv(t)
	e.w.Fail(raftnode.ErrNotLeader)
	r := e.do("POST", "/v1/users", `{"username":"alice","password":"pw"}`)
	if r.code != 503 || r.header.Get("Retry-After") == "" || !strings.Contains(errorOf(t, r), "this node is not the leader") {
		t.Fatalf("%d %v %s", r.code, r.header, r.body)
	}
}

func TestCluster(t *testing.T) {
	e := newEnv(t)
	st := decode[raftnode.Status](t, e.do("GET", "/v1/cluster", ""))
	if st.NodeID != "n1" || len(st.Members) != 1 || !st.Members[0].Leader {
		t.Fatalf("%+v", st)
	}
}

func TestErrorsNeverLeakHashes(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "alice")
	u, _ := e.dir.Get("alice")
	for _, path := range []string{"/v1/users", "/v1/users/alice"} {
		r := e.do("GET", path, "")
		if strings.Contains(r.body, u.HA1MD5) || strings.Contains(r.body, u.HA1SHA256) || strings.Contains(r.body, "ha1") {
			t.Fatalf("%s shows a password hash: %s", path, r.body)
		}
	}
}
