package admin

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/cluster/state"
)

func TestOfflineListAndPurge(t *testing.T) {
	e := newEnv(t)
	e.h = NewHandler(Config{Token: testToken, Directory: e.dir, State: e.st, Cluster: e.cluster, Writer: e.w,
		Registry: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow }})
	store := func(aor, body string) {
		t.Helper()
		if _, err := e.w.Write(context.Background(), state.CmdOfflineStore, state.OfflineStore{AOR: aor, From: "<sip:alice@example.com>;tag=1",
			To: "<sip:" + aor + ">", CallID: "c-" + body, ContentType: "text/plain", Body: []byte(body), PerUser: 10, Total: 100, TTL: int64(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	store("carol@example.com", "one")
	store("carol@example.com", "two")
	store("dave@example.com", "three")

	users := decode[[]api.OfflineUser](t, e.do("GET", "/v1/offline", ""))
	if len(users) != 2 || users[0] != (api.OfflineUser{AOR: "carol@example.com", Messages: 2}) {
		t.Fatalf("users %+v", users)
	}
	msgs := decode[[]api.OfflineMessage](t, e.do("GET", "/v1/offline/carol", ""))
	if len(msgs) != 2 || msgs[0].Body != "one" || msgs[1].Body != "two" || msgs[0].Time == "" {
		t.Fatalf("messages %+v", msgs)
	}
	// One message by id, then the rest of carol's, then everyone's.
	if r := e.do("DELETE", "/v1/offline/carol?id="+msgs[0].ID, ""); r.code != http.StatusOK || decode[api.OfflinePurged](t, r).Purged != 1 {
		t.Fatalf("purge by id: %d %s", r.code, r.body)
	}
	if r := e.do("DELETE", "/v1/offline/carol", ""); decode[api.OfflinePurged](t, r).Purged != 1 || e.st.OfflineCount("carol@example.com") != 0 {
		t.Fatalf("purge user: %s", r.body)
	}
	if r := e.do("DELETE", "/v1/offline", ""); decode[api.OfflinePurged](t, r).Purged != 1 {
		t.Fatalf("purge all: %s", r.body)
	}
	if users := decode[[]api.OfflineUser](t, e.do("GET", "/v1/offline", "")); len(users) != 0 {
		t.Fatalf("left: %+v", users)
	}
	if r := e.do("GET", "/v1/offline/bad@nowhere.net", ""); r.code < 400 {
		t.Fatalf("foreign domain: %d", r.code)
	}
}
