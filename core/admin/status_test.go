package admin

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/cluster/state"
)

func (e *env) register(t *testing.T, aor string, bs ...state.Binding) {
	t.Helper()
	if _, err := e.w.Write(context.Background(), state.CmdBindingUpdate, state.BindingUpdate{AOR: aor, Upsert: bs}); err != nil {
		t.Fatal(err)
	}
}

func TestBindings(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "alice")
	e.addUser(t, "bob")
	now := testNow.Unix()
	e.register(t, "alice@example.com",
		state.Binding{Contact: "sip:alice@192.0.2.1:5060", CallID: "c1", CSeq: 3, Q: 500, Expires: now + 300,
			Transport: "UDP", Source: "192.0.2.1:5060", Home: "n1", UserAgent: "Phone/1.0"},
		state.Binding{Contact: "sip:alice@192.0.2.2:5060", Instance: "<urn:uuid:1>", CallID: "c2", CSeq: 1, Q: 1000, Expires: now - 5,
			Transport: "TLS", Source: "192.0.2.2:5061", Home: "n2"})
	e.register(t, "bob@example.com", state.Binding{Contact: "sip:bob@192.0.2.3", CallID: "c3", Q: 1000, Expires: now + 60})
	tests := []struct {
		query   string
		want    string // contacts joined by space
		wantErr string
	}{
		{"", "sip:alice@192.0.2.1:5060 sip:alice@192.0.2.2:5060 sip:bob@192.0.2.3", ""},
		{"?user=alice", "sip:alice@192.0.2.1:5060 sip:alice@192.0.2.2:5060", ""},
		{"?user=bob@example.com", "sip:bob@192.0.2.3", ""},
		{"?user=carol", "", ""},
		{"?user=a%20b", "", "invalid username"},
		{"?user=alice@evil.net", "", "unknown domain"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := e.do("GET", "/v1/bindings"+tt.query, "")
			if tt.wantErr != "" {
				if r.code != 400 || !strings.Contains(errorOf(t, r), tt.wantErr) {
					t.Fatalf("%d %s", r.code, r.body)
				}
				return
			}
			if r.code != 200 || !strings.HasPrefix(r.body, "[") {
				t.Fatalf("%d %s", r.code, r.body)
			}
			var contacts []string
			for _, b := range decode[[]api.Binding](t, r) {
				contacts = append(contacts, b.Contact)
			}
			if got := strings.Join(contacts, " "); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	got := decode[[]api.Binding](t, e.do("GET", "/v1/bindings?user=alice", ""))
	want := api.Binding{AOR: "alice@example.com", Contact: "sip:alice@192.0.2.1:5060", Expires: now + 300, ExpiresIn: 300, Q: 0.5,
		Transport: "UDP", Source: "192.0.2.1:5060", Home: "n1", UserAgent: "Phone/1.0", CallID: "c1", CSeq: 3}
	if !reflect.DeepEqual(got[0], want) || got[1].ExpiresIn != 0 || got[1].Q != 1 || got[1].Instance != "<urn:uuid:1>" {
		t.Fatalf("bindings %+v", got)
	}
}

func TestImportStopsPartWay(t *testing.T) {
	e := newEnv(t)
	var b strings.Builder
	b.WriteString("username,password\n")
	for i := range 1500 {
		b.WriteString("u" + strings.Repeat("x", i%7) + itoa(i) + ",pw\n")
	}
	stop := &stopAfter{w: e.w, left: 1, err: errors.New("disk on fire")}
	e.h = NewHandler(Config{Token: testToken, Directory: newDirectory(e.st, stop), State: e.st, Logger: discard()})
	r := e.do("POST", "/v1/users/import", b.String(), "Content-Type", "text/csv")
	if r.code != 500 || !strings.Contains(errorOf(t, r), "import stopped after 1000 users") || !strings.Contains(r.body, `"imported": 1000`) {
		t.Fatalf("%d %s", r.code, r.body)
	}
}
