package admin

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-rtc/parley/cluster/state"
)

func TestPartners(t *testing.T) {
	e := newEnv(t)
	e.h = NewHandler(Config{Token: testToken, Directory: e.dir, State: e.st, Cluster: e.cluster, Writer: e.w,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	steps := []struct {
		name, method, path, body string
		want                     int
		wantErr                  string
		wantList                 string // domains after the step, comma-joined
	}{
		{"empty list", "GET", "/v1/partners", "", 200, "", ""},
		{"no domain", "POST", "/v1/partners", `{"identity":"x.example"}`, 400, "domain", ""},
		{"domain with user", "POST", "/v1/partners", `{"domain":"a@b.example"}`, 400, "domain", ""},
		{"bad hop", "POST", "/v1/partners", `{"domain":"b.example","next_hop":"http://x"}`, 400, "next_hop", ""},
		{"unknown field", "POST", "/v1/partners", `{"domain":"b.example","trusted":true}`, 400, "trusted", ""},
		{"add", "POST", "/v1/partners", `{"domain":"Kam.Example","identity":"SIP.kam.example","next_hop":"sip:127.0.0.5:5061;transport=tls"}`, 201, "", "kam.example"},
		{"add dns only", "POST", "/v1/partners", `{"domain":"b.example","dns_name":"sip.b.example"}`, 201, "", "b.example,kam.example"},
		{"delete unknown", "DELETE", "/v1/partners/zz.example", "", 404, "not found", "b.example,kam.example"},
		{"delete", "DELETE", "/v1/partners/B.example", "", 204, "", "kam.example"},
	}
	for _, s := range steps {
		r := e.do(s.method, s.path, s.body)
		if r.code != s.want {
			t.Fatalf("%s: status %d, want %d: %s", s.name, r.code, s.want, r.body)
		}
		if s.wantErr != "" && !strings.Contains(errorOf(t, r), s.wantErr) {
			t.Fatalf("%s: error %q lacks %q", s.name, r.body, s.wantErr)
		}
		var got []string
		for _, p := range e.st.Partners() {
			got = append(got, p.Domain)
		}
		if strings.Join(got, ",") != s.wantList {
			t.Fatalf("%s: partners %v, want %s", s.name, got, s.wantList)
		}
	}
	list := decode[[]state.Partner](t, e.do("GET", "/v1/partners", ""))
	if len(list) != 1 || list[0].Identity != "sip.kam.example" || list[0].NextHop != "sip:127.0.0.5:5061;transport=tls" {
		t.Fatalf("list %+v", list)
	}
	if r := e.do("GET", "/v1/partners", "", "Authorization", ""); r.code != http.StatusUnauthorized {
		t.Fatalf("without token: %d", r.code)
	}
}
