package admin

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
)

const pstnDoc = `{
  "dial_plans": [{"name": "us", "scope": "global", "rules": [
    {"name": "us-ld", "pattern": "^9?1?(\\d{10})$", "translation": "+1$1"}]}],
  "users": [{"name": "alice@example.com", "numbers": ["tel:+12065550101"]}],
  "policies": [{"name": "local", "default": true, "usages": ["local"]}],
  "routes": [{"name": "seattle", "usages": ["local"], "prefix": "+1206",
    "gateways": {"members": [{"trunk": "gwA"}, {"trunk": "gwB"}]}}],
  "trunks": [
    {"name": "gwA", "address": "127.0.0.1:5071", "trusted": true, "caller_id": {"assert_identity": true}},
    {"name": "gwB", "address": "127.0.0.1:5072", "called": {"format": "national", "country": "US"}}]
}`

// pstnDocDraining is pstnDoc with gwB draining.
var pstnDocDraining = strings.Replace(pstnDoc, `"address": "127.0.0.1:5072",`, `"address": "127.0.0.1:5072", "state": "draining",`, 1)

// badPSTNDoc has three problems: a pattern that does not compile, a
// route naming an unknown trunk, and a trunk that points back at us.
const badPSTNDoc = `{
  "dial_plans": [{"name": "us", "scope": "global", "rules": [{"name": "broken", "pattern": "^(", "translation": "+1"}]}],
  "policies": [{"name": "local", "default": true, "usages": ["local"]}],
  "routes": [{"name": "r", "usages": ["local"], "prefix": "+1", "gateways": {"members": [{"trunk": "gwZ"}]}}],
  "trunks": [{"name": "self", "address": "sip:example.com"}]
}`

func newPSTNEnv(t *testing.T) *env {
	t.Helper()
	st := state.New()
	w := statetest.NewWriter(st)
	e := &env{st: st, w: w, cluster: &fakeCluster{}, dir: newDirectory(st, w)}
	e.h = NewHandler(Config{Token: testToken, Directory: e.dir, State: st, Cluster: e.cluster, Writer: w,
		Registry: prometheus.NewRegistry(), Logger: discard(), Now: func() time.Time { return testNow }})
	return e
}

// TestPSTNConfigAPI: a good document is written at version 1, then 2
// with If-Match; a stale If-Match is 409 with the version in force;
// without If-Match 428; an invalid document is 422 listing every problem
// and nothing is written; the dry run uses the stored document.
func TestPSTNConfigAPI(t *testing.T) {
	e := newPSTNEnv(t)
	put := func(doc, ifMatch string) reply {
		return e.do("PUT", "/v1/pstn/configs/default", doc, "If-Match", ifMatch)
	}
	if r := e.do("GET", "/v1/pstn/configs/default", ""); r.code != http.StatusNotFound {
		t.Fatalf("get before: %d %s", r.code, r.body)
	}
	if r := put(pstnDoc, ""); r.code != http.StatusPreconditionRequired {
		t.Fatalf("no If-Match: %d %s", r.code, r.body)
	}
	r := put(pstnDoc, `"0"`)
	if r.code != http.StatusOK || r.header.Get("ETag") != `"1"` {
		t.Fatalf("create: %d %v %s", r.code, r.header, r.body)
	}
	if got := decode[api.PSTNConfig](t, r); got.Version != 1 || got.Name != "default" || got.Document != nil {
		t.Fatalf("create answer %+v", got)
	}
	if r := put(pstnDoc, `"0"`); r.code != http.StatusOK || r.header.Get("ETag") != `"1"` {
		t.Fatalf("the same write again (a retry) is a no-op: %d %s", r.code, r.body)
	}
	if r := put(pstnDocDraining, `"0"`); r.code != http.StatusConflict || !strings.Contains(errorOf(t, r), "at version 1") {
		t.Fatalf("stale create: %d %s", r.code, r.body)
	} else if v := decode[api.PSTNError](t, r).Version; v == nil || *v != 1 {
		t.Fatalf("conflict version %v", v)
	}
	if r := put(pstnDocDraining, `"1"`); r.code != http.StatusOK || r.header.Get("ETag") != `"2"` {
		t.Fatalf("update: %d %s", r.code, r.body)
	}
	r = put(badPSTNDoc, `"2"`)
	if r.code != http.StatusUnprocessableEntity {
		t.Fatalf("invalid: %d %s", r.code, r.body)
	}
	pe := decode[api.PSTNError](t, r)
	want := []string{`trunk "self"`, `trunk "gwZ" is not defined`, `rule "broken"`}
	if len(pe.Problems) != len(want) {
		t.Fatalf("problems %q, want %d", pe.Problems, len(want))
	}
	for i, w := range want {
		if !strings.Contains(pe.Problems[i], w) || !strings.Contains(pe.Error, w) {
			t.Fatalf("problem %d %q (error %q), want %q", i, pe.Problems[i], pe.Error, w)
		}
	}
	if r := put(`{"trunks": [], "extra": 1}`, `"2"`); r.code != http.StatusUnprocessableEntity || !strings.Contains(errorOf(t, r), "extra") {
		t.Fatalf("unknown field: %d %s", r.code, r.body)
	}
	if r := put(`[1,2`, `"2"`); r.code != http.StatusUnprocessableEntity {
		t.Fatalf("not JSON: %d %s", r.code, r.body)
	}
	if r := put(pstnDoc, `"x"`); r.code != http.StatusBadRequest {
		t.Fatalf("bad If-Match: %d %s", r.code, r.body)
	}
	r = e.do("GET", "/v1/pstn/configs/default", "")
	got := decode[api.PSTNConfig](t, r)
	if r.code != http.StatusOK || got.Version != 2 || r.header.Get("ETag") != `"2"` || !strings.Contains(string(got.Document), `"gwB"`) {
		t.Fatalf("get: %d %s", r.code, r.body)
	}
	if list := decode[[]api.PSTNConfig](t, e.do("GET", "/v1/pstn/configs", "")); len(list) != 1 || list[0].Document != nil {
		t.Fatalf("list %+v", list)
	}
	r = e.do("POST", "/v1/pstn/configs/default/test", `{"user":"alice@example.com","dialled":"912065550100"}`)
	res := decode[api.PSTNTestResult](t, r)
	if r.code != http.StatusOK || res.Number != "+12065550100" || len(res.Gateways) != 1 ||
		res.Gateways[0].Trunk != "gwA" || len(res.Skipped) != 1 || res.Skipped[0].Trunk != "gwB" || res.Version != 2 ||
		!strings.Contains(res.Report, "1. gwA called +12065550100") {
		t.Fatalf("test: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/v1/pstn/configs/nope/test", `{"user":"a@example.com","dialled":"1"}`); r.code != http.StatusNotFound {
		t.Fatalf("test of a missing document: %d %s", r.code, r.body)
	}
}

// TestPSTNConfigTooLarge: a body over the state's bound is 413.
func TestPSTNConfigTooLarge(t *testing.T) {
	e := newPSTNEnv(t)
	big := `{"trunks":[], "x": "` + strings.Repeat("a", state.MaxPSTNConfig) + `"}`
	if r := e.do("PUT", "/v1/pstn/configs/default", big, "If-Match", `"0"`); r.code != http.StatusRequestEntityTooLarge {
		t.Fatalf("%d %s", r.code, r.body)
	}
}

// TestGoldenPSTN compares the PSTN endpoints' bodies with their golden
// files in api/testdata (see TestGoldenJSON; -update rewrites them).
func TestGoldenPSTN(t *testing.T) {
	st := state.New()
	w := &fixedWriter{st: st}
	e := &env{st: st, cluster: &fakeCluster{}, dir: newDirectory(st, w)}
	e.h = NewHandler(Config{Token: testToken, Directory: e.dir, State: st, Cluster: e.cluster, Writer: w,
		Registry: prometheus.NewRegistry(), Logger: discard(), Now: func() time.Time { return testNow }})
	steps := []struct {
		name, method, path, body, ifMatch string
		want                              int
	}{
		{"pstn_put", "PUT", "/v1/pstn/configs/default", pstnDoc, `"0"`, http.StatusOK},
		{"pstn_get", "GET", "/v1/pstn/configs/default", "", "", http.StatusOK},
		{"pstn_list", "GET", "/v1/pstn/configs", "", "", http.StatusOK},
		{"pstn_test", "POST", "/v1/pstn/configs/default/test", `{"user":"alice@example.com","dialled":"912065550100"}`, "", http.StatusOK},
		{"error_pstn_invalid", "PUT", "/v1/pstn/configs/default", badPSTNDoc, `"1"`, http.StatusUnprocessableEntity},
		{"error_pstn_conflict", "PUT", "/v1/pstn/configs/default", pstnDocDraining, `"0"`, http.StatusConflict},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var hdr []string
			if st.ifMatch != "" {
				hdr = []string{"If-Match", st.ifMatch}
			}
			r := e.do(st.method, st.path, st.body, hdr...)
			if r.code != st.want {
				t.Fatalf("status %d, want %d: %s", r.code, st.want, r.body)
			}
			file := filepath.Join(goldenDir, st.name+".json")
			if *update {
				if err := os.WriteFile(file, []byte(r.body), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal([]byte(r.body), want) {
				t.Fatalf("%s changed:\ngot:\n%s\nwant:\n%s", file, r.body, want)
			}
		})
	}
}
