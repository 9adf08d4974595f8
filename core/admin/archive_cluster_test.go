package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/cluster/state/statetest"
	"github.com/parley-rtc/parley/core/archive"
	"github.com/parley-rtc/parley/core/directory"
)

// recordingArchive answers every query with its entries and counts the
// searches.
type recordingArchive struct {
	entries  []archive.Entry
	searches chan archive.Query
}

func (a *recordingArchive) Search(q archive.Query) ([]archive.Entry, error) {
	select {
	case a.searches <- q:
	default:
	}
	return a.entries, nil
}

func archived(node string, mins ...int) []archive.Entry {
	var out []archive.Entry
	for _, m := range mins {
		out = append(out, archive.Entry{Time: time.Date(2024, 5, 1, 12, m, 0, 0, time.UTC), Node: node, Method: "MESSAGE",
			From: "alice@example.com", To: "bob@example.com", Body: node})
	}
	return out
}

// TestArchiveSearchCluster: a search on n1 asks n2 over its admin API
// (scope=node, same token and query) and merges newest first to the
// limit; n3, which does not answer in time, and n4, which publishes no
// admin URL, are reported per node, not fatal; scope=node stays local.
func TestArchiveSearchCluster(t *testing.T) {
	old := FanoutTimeout
	FanoutTimeout = 500 * time.Millisecond
	t.Cleanup(func() { FanoutTimeout = old })

	st := state.New()
	w := statetest.NewWriter(st)
	dir := directory.New(st, w, []string{"example.com"})
	handler := func(node string, a Archive) http.Handler {
		return NewHandler(Config{Token: testToken, Directory: dir, State: st, Cluster: &fakeCluster{}, Archive: a, Node: node,
			Registry: prometheus.NewRegistry(), Logger: discard(), Writer: w})
	}
	n2arch := &recordingArchive{entries: archived("n2", 30, 10), searches: make(chan archive.Query, 4)}
	n2 := httptest.NewServer(handler("n2", n2arch))
	t.Cleanup(n2.Close)
	stuck := make(chan struct{})
	n3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // never answers in time
		case <-r.Context().Done():
		case <-stuck:
		}
	}))
	t.Cleanup(func() { close(stuck); n3.Close() })
	for _, m := range []state.Member{{ID: "n1", AdminURL: "http://127.0.0.1:1"}, {ID: "n2", AdminURL: n2.URL}, {ID: "n3", AdminURL: n3.URL}, {ID: "n4"}} {
		if _, err := w.Write(context.Background(), state.CmdMemberPut, state.MemberPut{Member: m}); err != nil {
			t.Fatal(err)
		}
	}
	n1 := &env{h: handler("n1", &recordingArchive{entries: archived("n1", 40, 20, 5)}), st: st}

	r := n1.do("GET", "/v1/archive?user=alice&limit=4", "")
	if r.code != http.StatusOK {
		t.Fatalf("%d %s", r.code, r.body)
	}
	var got api.ArchiveSearch
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, e := range got.Entries {
		order = append(order, e.Node+"@"+e.Time.Format("04"))
	}
	if want := "[n1@40 n2@30 n1@20 n2@10]"; fmt.Sprint(order) != want {
		t.Fatalf("entries %v, want %s", order, want)
	}
	if !got.Partial || len(got.Nodes) != 4 {
		t.Fatalf("nodes %+v partial %v", got.Nodes, got.Partial)
	}
	for i, want := range []struct {
		node  string
		count int
		err   bool
	}{{"n1", 3, false}, {"n2", 2, false}, {"n3", 0, true}, {"n4", 0, true}} {
		n := got.Nodes[i]
		if n.Node != want.node || n.Count != want.count || (n.Error != "") != want.err {
			t.Errorf("node %d: %+v, want %+v", i, n, want)
		}
	}
	select {
	case q := <-n2arch.searches:
		if q.User != "alice" || q.Limit != 4 {
			t.Errorf("n2 was asked %+v", q)
		}
	default:
		t.Error("n2 was not asked")
	}

	r = n1.do("GET", "/v1/archive?scope=node", "")
	got = api.ArchiveSearch{}
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || len(got.Nodes) != 1 || len(got.Entries) != 3 || got.Partial {
		t.Fatalf("scope=node: %v %s", err, r.body)
	}
	if r := n1.do("GET", "/v1/archive?scope=everywhere", ""); r.code != http.StatusBadRequest {
		t.Fatalf("bad scope: %d", r.code)
	}
}
