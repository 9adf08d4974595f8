package directory_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/raftnode"
	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/directory"
)

// TestImportOverRaft imports 50k users through a real single-node raft
// cluster (fsync on), the way parleyd does.
func TestImportOverRaft(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("large import over raft")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	st := state.New()
	n, err := raftnode.Open(raftnode.Config{NodeID: "n1", DataDir: t.TempDir(), Bind: addr, Bootstrap: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, st)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	d := directory.New(st, n, []string{"example.com"})
	start := time.Now()
	res, err := d.Import(ctx, bytes.NewReader(bigCSV(50000)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("imported %+v over raft in %v", res, time.Since(start))
	if res.Created != 50000 || st.UserCount() != 50000 {
		t.Fatalf("result %+v, %d users", res, st.UserCount())
	}
}
