package admin

import (
	"github.com/parley-rtc/parley/api"

	"net/http"
	"strings"
	"testing"
)

func TestCreateUser(t *testing.T) {
	tests := []struct {
		name, body string
		hdr        []string
		want       int
		wantErr    string
	}{
		{"ok", `{"username":"alice","password":"pw","display":"Alice"}`, nil, 201, ""},
		{"ok with charset", `{"username":"alice","password":"pw"}`, []string{"Content-Type", "application/json; charset=utf-8"}, 201, ""},
		{"ok without content type", `{"username":"alice","password":"pw"}`, []string{"Content-Type", ""}, 201, ""},
		{"form content type", `{"username":"alice","password":"pw"}`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "application/json"},
		{"empty body", ``, nil, 400, "empty body"},
		{"not json", `alice`, nil, 400, "invalid JSON"},
		{"truncated", `{"username":"alice"`, nil, 400, "invalid JSON"},
		{"array", `[]`, nil, 400, "want an object"},
		{"trailing data", `{"username":"alice","password":"pw"} {}`, nil, 400, "after the object"},
		{"unknown field", `{"username":"alice","password":"pw","admin":true}`, nil, 400, `"admin"`},
		{"wrong type", `{"username":"alice","password":42}`, nil, 400, `"password"`},
		{"null", `null`, nil, 400, "username"},
		{"missing username", `{"password":"pw"}`, nil, 400, "username: required"},
		{"bad username", `{"username":"a b","password":"pw"}`, nil, 400, "invalid username"},
		{"unknown domain", `{"username":"a@evil.net","password":"pw"}`, nil, 400, "invalid username: unknown domain"},
		{"missing password", `{"username":"alice"}`, nil, 400, "invalid password"},
		{"bad display", `{"username":"alice","password":"pw","display":"a\u0000b"}`, nil, 400, "invalid display"},
		{"with home", `{"username":"alice","password":"pw","home":"n2"}`, nil, 201, ""},
		{"bad home", `{"username":"alice","password":"pw","home":"n 2"}`, nil, 400, "invalid home"},
		{"too large", `{"username":"alice","password":"` + strings.Repeat("x", 1<<20) + `"}`, nil, 413, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.do("POST", "/v1/users", tt.body, tt.hdr...)
			if r.code != tt.want {
				t.Fatalf("status %d, want %d: %s", r.code, tt.want, r.body)
			}
			if tt.wantErr != "" {
				if msg := errorOf(t, r); !strings.Contains(msg, tt.wantErr) {
					t.Fatalf("error %q, want %q", msg, tt.wantErr)
				}
				return
			}
			u := decode[api.User](t, r)
			if u.AOR != "alice@example.com" || !u.Enabled || u.Created.IsZero() || r.header.Get("Location") != "/v1/users/alice@example.com" {
				t.Fatalf("created %+v (%v)", u, r.header)
			}
		})
	}
}

func TestCreateExisting(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "alice")
	r := e.do("POST", "/v1/users", `{"username":"alice@example.com","password":"x"}`)
	if r.code != http.StatusConflict || errorOf(t, r) != "user alice@example.com already exists" {
		t.Fatalf("%d %s", r.code, r.body)
	}
}

func TestListUsers(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"carol", "alice", "bob", "dave@other.org"} {
		e.addUser(t, n)
	}
	tests := []struct {
		query string
		want  string // AORs joined by space; "!" prefix means an error
	}{
		{"", "alice@example.com bob@example.com carol@example.com dave@other.org"},
		{"?limit=2", "alice@example.com bob@example.com"},
		{"?limit=2&offset=2", "carol@example.com dave@other.org"},
		{"?offset=3", "dave@other.org"},
		{"?offset=10", ""},
		{"?offset=9223372036854775807&limit=10000", ""},
		{"?limit=0", "!limit"},
		{"?limit=10001", "!limit"},
		{"?limit=x", "!limit"},
		{"?offset=-1", "!offset"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := e.do("GET", "/v1/users"+tt.query, "")
			if strings.HasPrefix(tt.want, "!") {
				if r.code != 400 || !strings.Contains(errorOf(t, r), tt.want[1:]) {
					t.Fatalf("%d %s", r.code, r.body)
				}
				return
			}
			var aors []string
			for _, u := range decode[[]api.User](t, r) {
				aors = append(aors, u.AOR)
			}
			if got := strings.Join(aors, " "); got != tt.want || r.header.Get("X-Total-Count") != "4" {
				t.Fatalf("got %q total %q, want %q", got, r.header.Get("X-Total-Count"), tt.want)
			}
		})
	}
}

func TestUserItem(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		want                     int
		wantErr                  string
	}{
		{"get", "GET", "/v1/users/alice", "", 200, ""},
		{"get with domain", "GET", "/v1/users/alice@EXAMPLE.com", "", 200, ""},
		{"get unknown", "GET", "/v1/users/bob", "", 404, "user bob@example.com not found"},
		{"get bad domain", "GET", "/v1/users/alice@x.y", "", 404, "not found"},
		{"get escaped slash", "GET", "/v1/users/a%2Fb", "", 404, "user a/b@example.com not found"},
		{"delete", "DELETE", "/v1/users/alice", "", 204, ""},
		{"delete unknown", "DELETE", "/v1/users/bob", "", 404, "user bob@example.com not found"},
		{"delete bad name", "DELETE", "/v1/users/a%20b", "", 400, "invalid username"},
		{"password", "PUT", "/v1/users/alice/password", `{"password":"new"}`, 204, ""},
		{"password missing", "PUT", "/v1/users/alice/password", `{}`, 400, "invalid password: required"},
		{"password empty", "PUT", "/v1/users/alice/password", `{"password":""}`, 400, "invalid password: empty"},
		{"password unknown user", "PUT", "/v1/users/bob/password", `{"password":"x"}`, 404, "not found"},
		{"disable", "PUT", "/v1/users/alice/enabled", `{"enabled":false}`, 200, ""},
		{"enabled missing", "PUT", "/v1/users/alice/enabled", `{}`, 400, "enabled: required"},
		{"enabled wrong type", "PUT", "/v1/users/alice/enabled", `{"enabled":"no"}`, 400, `"enabled"`},
		{"enabled unknown user", "PUT", "/v1/users/bob/enabled", `{"enabled":true}`, 404, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.addUser(t, "alice")
			r := e.do(tt.method, tt.path, tt.body)
			if r.code != tt.want {
				t.Fatalf("status %d, want %d: %s", r.code, tt.want, r.body)
			}
			if tt.wantErr != "" {
				if msg := errorOf(t, r); !strings.Contains(msg, tt.wantErr) {
					t.Fatalf("error %q, want %q", msg, tt.wantErr)
				}
			}
		})
	}
}

func TestUserItemEffects(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "alice")
	if u := decode[api.User](t, e.do("PUT", "/v1/users/alice/enabled", `{"enabled":false}`)); u.Enabled {
		t.Fatalf("still enabled: %+v", u)
	}
	before, _ := e.dir.Get("alice")
	e.do("PUT", "/v1/users/alice/password", `{"password":"new"}`)
	if after, _ := e.dir.Get("alice"); after.HA1MD5 == before.HA1MD5 {
		t.Fatal("password not changed")
	}
	e.do("DELETE", "/v1/users/alice", "")
	if e.st.UserCount() != 0 {
		t.Fatal("not deleted")
	}
}

func TestImport(t *testing.T) {
	tests := []struct {
		name, body string
		hdr        []string
		want       int
		wantBody   string
	}{
		{"ok", "username,password,display\nalice,a,Alice\nbob,b,\n", nil, 200, `"imported": 2`},
		{"updates", "username,password\ncarol,c\nalice,a\n", nil, 200, `"updated": 1`},
		{"bad lines", "username,password\nalice,a\nb b,x\n,y\n", nil, 400, `"line": 4`},
		{"empty", "", nil, 400, "empty file"},
		{"json type", "username,password\n", []string{"Content-Type", "application/json"}, 415, "text/csv"},
		{"too large", "username,password\n" + strings.Repeat("x,y\n", 300), nil, 413, "larger than"},
	}
	defer func(old int64) { maxImportBody = old }(maxImportBody)
	maxImportBody = 1000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.addUser(t, "alice")
			hdr := append([]string{"Content-Type", "text/csv"}, tt.hdr...)
			r := e.do("POST", "/v1/users/import", tt.body, hdr...)
			if r.code != tt.want || !strings.Contains(r.body, tt.wantBody) {
				t.Fatalf("status %d, want %d with %q: %s", r.code, tt.want, tt.wantBody, r.body)
			}
			if r.code != 200 {
				errorOf(t, r)
			}
		})
	}
}

// TestSetHome: PUT /v1/users/{name}/home sets and clears the node a user
// is assigned to.
func TestSetHome(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "alice")
	for _, tc := range []struct {
		name, body string
		want       int
		home       string
	}{
		{"set", `{"home":"n3"}`, 200, "n3"},
		{"clear", `{"home":""}`, 200, ""},
		{"missing", `{}`, 400, ""},
		{"bad id", `{"home":"n/3"}`, 400, ""},
	} {
		r := e.do("PUT", "/v1/users/alice/home", tc.body)
		if r.code != tc.want {
			t.Fatalf("%s: status %d, want %d: %s", tc.name, r.code, tc.want, r.body)
		}
		if tc.want == 200 {
			if u := decode[api.User](t, r); u.Home != tc.home {
				t.Fatalf("%s: home %q, want %q", tc.name, u.Home, tc.home)
			}
		}
	}
	if r := e.do("PUT", "/v1/users/zed/home", `{"home":"n1"}`); r.code != 404 {
		t.Fatalf("unknown user: %d", r.code)
	}
}
