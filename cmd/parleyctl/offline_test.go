package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/admin"
)

func TestOfflineCommands(t *testing.T) {
	s := newServer(t)
	srv := httptest.NewServer(admin.NewHandler(admin.Config{
		Token: testToken, Directory: s.dir, State: s.st, Cluster: fakeCluster{}, Writer: s.w,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow },
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	for _, body := range []string{"hello", "again"} {
		if _, err := s.w.Write(context.Background(), state.CmdOfflineStore, state.OfflineStore{AOR: "carol@example.com",
			From: "<sip:alice@example.com>;tag=1", To: "<sip:carol@example.com>", CallID: body, ContentType: "text/plain",
			Body: []byte(body), PerUser: 10, Total: 100, TTL: int64(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if r := s.run("", []string{"offline", "list"}); r.code != 0 || !strings.Contains(r.stdout, "carol@example.com") || !strings.Contains(r.stdout, "2") {
		t.Fatalf("list: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := s.run("", []string{"offline", "list", "carol"}); r.code != 0 || !strings.Contains(r.stdout, `"hello"`) || strings.Index(r.stdout, "hello") > strings.Index(r.stdout, "again") {
		t.Fatalf("list carol: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := s.run("", []string{"offline", "purge"}); r.code == 0 {
		t.Fatal("purge without a user or --all succeeded")
	}
	if r := s.run("", []string{"offline", "purge", "carol"}); r.code != 0 || !strings.Contains(r.stdout, "2 offline message(s) purged") {
		t.Fatalf("purge: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := s.run("", []string{"offline", "purge", "--all"}); r.code != 0 || !strings.Contains(r.stdout, "0 offline") {
		t.Fatalf("purge --all: %d %q %q", r.code, r.stdout, r.stderr)
	}
}
