package admin

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-rtc/parley/cluster/raftnode"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/archive"
)

var update = flag.Bool("update", false, "rewrite the golden files in api/testdata")

// goldenDir holds the API's wire contract: the api package round-trips
// the same files through its types.
const goldenDir = "../../api/testdata"

// fakePresence keeps contacts, rules and calendars in memory.
type fakePresence struct {
	contacts map[string][]state.Contact
	rules    map[string]state.PresRules
	calendar map[string][]state.CalendarEntry
}

func newFakePresence() *fakePresence {
	return &fakePresence{contacts: map[string][]state.Contact{}, rules: map[string]state.PresRules{}, calendar: map[string][]state.CalendarEntry{}}
}

func (f *fakePresence) LevelOf(aor string) (string, []byte) {
	return "online", []byte(`<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:` + aor + `"/>`)
}
func (f *fakePresence) Contacts(aor string) []state.Contact { return f.contacts[aor] }
func (f *fakePresence) SetContacts(_ context.Context, aor string, cs []state.Contact) error {
	f.contacts[aor] = cs
	return nil
}
func (f *fakePresence) Rules(aor string) state.PresRules { return f.rules[aor] }
func (f *fakePresence) SetRules(_ context.Context, aor string, r state.PresRules) error {
	f.rules[aor] = r
	return nil
}
func (f *fakePresence) Calendar(aor string) []state.CalendarEntry { return f.calendar[aor] }
func (f *fakePresence) SetCalendar(_ context.Context, aor string, es []state.CalendarEntry) error {
	f.calendar[aor] = es
	return nil
}

// fixedWriter applies commands at once, stamped with testNow, so the
// times the state keeps (a user's created and updated) are the same in
// every run.
type fixedWriter struct {
	st  *state.State
	seq uint64
}

func (f *fixedWriter) Write(_ context.Context, t state.CommandType, body any) (any, error) {
	c, err := state.NewCommand(t, body)
	if err != nil {
		return nil, err
	}
	f.seq++
	c.ReqID, c.Time, c.Node = "golden-"+itoa(int(f.seq)), testNow.UnixNano(), "n1"
	data, err := c.Encode()
	if err != nil {
		return nil, err
	}
	res := f.st.Apply(f.seq, data)
	if err, ok := res.(error); ok {
		return nil, err
	}
	return res, nil
}

// richMembers reports a cluster status with every field set.
type richMembers struct{ fakeMembers }

func (richMembers) AddMember(context.Context, string, string, bool) error { return nil }
func (richMembers) TransferLeadership(context.Context, string) error      { return nil }

func (richMembers) ClusterStatus(context.Context) raftnode.Status {
	return raftnode.Status{NodeID: "n1", State: "Leader", Leader: "n1", LeaderAddr: "10.0.0.1:8300", Term: 7,
		LastIndex: 120, AppliedIndex: 119, CommitIndex: 120, LastContact: "0",
		Members: []raftnode.Member{
			{ID: "n1", Address: "10.0.0.1:8300", Suffrage: "Voter", Leader: true, Role: "leader", Known: true, Term: 7, LastIndex: 120,
				Healthy: true, AdminURL: "http://10.0.0.1:8080", SIPAddr: "sip:10.0.0.1:5060;transport=tcp", NodeRole: "home", LogVersion: 2},
			{ID: "n2", Address: "10.0.0.2:8300", Suffrage: "Nonvoter", Role: "nonvoter", Known: true, Term: 7, LastIndex: 110, Lag: 10,
				LastContact: "12ms", AdminURL: "http://10.0.0.2:8080", NodeRole: "director"},
			{ID: "n3", Address: "10.0.0.3:8300", Suffrage: "Voter", Role: "follower"},
		}}
}

type fakeArchive []archive.Entry

func (f fakeArchive) Search(archive.Query) ([]archive.Entry, error) { return f, nil }

// TestGoldenJSON drives every endpoint that returns an object with
// representative data and compares each body with its golden file, byte
// for byte: field names, order, omitted fields and value forms are the
// public API (operators, docs and interop tests read them). Run with
// -update to rewrite the files, and review the diff.
func TestGoldenJSON(t *testing.T) {
	st := state.New()
	e := &env{st: st, cluster: &fakeCluster{}}
	w := &fixedWriter{st: st}
	e.dir = newDirectory(st, w)
	pres := newFakePresence()
	e.h = NewHandler(Config{Token: testToken, Directory: e.dir, State: e.st, Cluster: e.cluster, Writer: w,
		Registry: prometheus.NewRegistry(), Logger: discard(), Now: func() time.Time { return testNow },
		Presence: pres, Members: &richMembers{}, Node: "n1",
		Archive: fakeArchive{{Time: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), Node: "n1", CallID: "c1@h", Method: "MESSAGE",
			From: "alice@example.com", To: "bob@example.com", ContentType: "text/plain", Body: "hi <b>&", Status: 200}},
		Plugins: func(app string) (PluginState, bool) {
			return PluginState{Up: true, PID: 42, Restarts: 1}, app == "xmpp"
		},
	})
	ctx := context.Background()
	steps := []struct {
		name, method, path, body string
		setup                    func(t *testing.T)
		want                     int
	}{
		{name: "user_create", method: "POST", path: "/v1/users", body: `{"username":"alice","password":"pw","display":"Alice A.","home":"n2"}`, want: http.StatusCreated},
		{name: "user_get", method: "GET", path: "/v1/users/alice", want: http.StatusOK, setup: func(t *testing.T) {
			e.addUser(t, "bob@other.org")
		}},
		{name: "user_list", method: "GET", path: "/v1/users", want: http.StatusOK},
		{name: "user_enabled", method: "PUT", path: "/v1/users/bob@other.org/enabled", body: `{"enabled":false}`, want: http.StatusOK},
		{name: "user_import", method: "POST", path: "/v1/users/import", body: "username,password,display\ncarol,pw,Carol\n", want: http.StatusOK},
		{name: "error_import_lines", method: "POST", path: "/v1/users/import", body: "username,password\n,pw\ndave,\n", want: http.StatusBadRequest},
		{name: "error_not_found", method: "GET", path: "/v1/users/nobody", want: http.StatusNotFound},
		{name: "bindings", method: "GET", path: "/v1/bindings", want: http.StatusOK, setup: func(t *testing.T) {
			b := []state.Binding{
				{Contact: "sip:alice@192.0.2.1:5060", CallID: "c1", CSeq: 3, Q: 1000, Expires: testNow.Unix() + 300, Transport: "UDP", Source: "192.0.2.1:5060", Local: "192.0.2.9:5060", Home: "n1", UserAgent: "phone/1"},
				{Contact: "sip:alice@192.0.2.2:5061;transport=tls", Instance: "<urn:uuid:1>", RegID: 1, CallID: "c2", CSeq: 1, Q: 500, Expires: testNow.Unix() - 5, Transport: "TLS", Source: "192.0.2.2:5061", Home: "n2"},
			}
			if _, err := w.Write(ctx, state.CmdBindingUpdate, state.BindingUpdate{AOR: "alice@example.com", Upsert: b}); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "app_put", method: "POST", path: "/v1/apps", body: `{"name":"xmpp","kind":"plugin","position":10,"enabled":true,"critical":true,"command":"xmppgw","args":["-v"],"claims":["*@xmpp.example.net"],"methods":["message"],"singleton":true,"settings":{"k":"v"}}`, want: http.StatusCreated},
		{name: "app_patch", method: "PATCH", path: "/v1/apps/xmpp", body: `{"position":20,"strict_route":true}`, want: http.StatusOK},
		{name: "app_list", method: "GET", path: "/v1/apps", want: http.StatusOK},
		{name: "route_put", method: "POST", path: "/v1/routes", body: `{"id":"r1","match":"phone:+1","next_hop":"sip:gw1.example:5060;transport=tcp","trusted":true,"priority":5}`, want: http.StatusCreated},
		{name: "route_list", method: "GET", path: "/v1/routes", want: http.StatusOK, setup: func(t *testing.T) {
			if r := e.do("POST", "/v1/routes", `{"id":"r2","match":"domain:example.net","next_hop":"sip:edge.example.net"}`); r.code != http.StatusCreated {
				t.Fatalf("route: %d %s", r.code, r.body)
			}
		}},
		{name: "partner_put", method: "POST", path: "/v1/partners", body: `{"domain":"Partner.Example","identity":"edge.partner.example","dns_name":"sip.partner.example","next_hop":"sips:edge.partner.example:5061"}`, want: http.StatusCreated},
		{name: "partner_list", method: "GET", path: "/v1/partners", want: http.StatusOK, setup: func(t *testing.T) {
			if r := e.do("POST", "/v1/partners", `{"domain":"bare.example"}`); r.code != http.StatusCreated {
				t.Fatalf("partner: %d %s", r.code, r.body)
			}
		}},
		{name: "presence", method: "GET", path: "/v1/users/alice/presence", want: http.StatusOK},
		{name: "contacts", method: "GET", path: "/v1/users/alice/contacts", want: http.StatusOK, setup: func(t *testing.T) {
			if r := e.do("PUT", "/v1/users/alice/contacts", `[{"uri":"sip:bob@other.org","name":"Bob","groups":["work","friends"]},{"uri":"tel:+15551234"}]`); r.code != http.StatusNoContent {
				t.Fatalf("contacts: %d %s", r.code, r.body)
			}
		}},
		{name: "rules", method: "GET", path: "/v1/users/alice/rules", want: http.StatusOK, setup: func(t *testing.T) {
			if r := e.do("PUT", "/v1/users/alice/rules", `{"allow":["sip:bob@other.org","*@example.com"],"polite":["sip:eve@evil.example"]}`); r.code != http.StatusNoContent {
				t.Fatalf("rules: %d %s", r.code, r.body)
			}
		}},
		{name: "calendar", method: "GET", path: "/v1/users/alice/calendar", want: http.StatusOK, setup: func(t *testing.T) {
			if r := e.do("PUT", "/v1/users/alice/calendar", `[{"from":"2024-05-01T09:00:00Z","to":"2024-05-01T12:30:00+02:00","subject":"standup"},{"from":"2024-05-02T09:00:00Z","to":"2024-05-02T17:00:00Z"}]`); r.code != http.StatusNoContent {
				t.Fatalf("calendar: %d %s", r.code, r.body)
			}
		}},
		{name: "archive", method: "GET", path: "/v1/archive?user=alice", want: http.StatusOK},
		{name: "cluster", method: "GET", path: "/v1/cluster", want: http.StatusOK},
		{name: "member_add", method: "POST", path: "/v1/cluster/members", body: `{"id":"n3","raft_addr":"10.0.0.3:8300","voter":false}`, want: http.StatusOK},
		{name: "leader_transfer", method: "POST", path: "/v1/cluster/leader", body: `{"id":"n1"}`, want: http.StatusOK},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.setup != nil {
				st.setup(t)
			}
			var hdr []string
			if st.name == "user_import" || st.name == "error_import_lines" {
				hdr = []string{"Content-Type", "text/csv"}
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
