//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/parley-rtc/parley/bench/internal/benchnode"
)

// server is the parleyd under test: started here, or given by flags.
type server struct{ *benchnode.Server }

// startParleyd runs bin/parleyd on free loopback ports with a fresh data
// directory in dir.
func startParleyd(binDir, dir string) (*server, error) {
	s, err := benchnode.Start(binDir, dir, domain, func(sip string) string { return "udp://" + sip },
		"--flood-rate", "0") // 1,000 watchers share one IP by design
	if err != nil {
		return nil, err
	}
	return &server{s}, nil
}

func (s *server) stop() { s.Stop() }

func (s *server) heapInUse() (float64, error) { return s.HeapInUse() }

// importUsers creates alice and watchers w00001.. with parleyctl user import.
func (s *server) importUsers(dir string, n int) error {
	path := filepath.Join(dir, "fanout-users.csv")
	var b strings.Builder
	b.WriteString("username,password\n")
	fmt.Fprintf(&b, "%s,%s\n", presentity, password)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s,%s\n", watcherName(i), password)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(s.BinDir, "parleyctl"), "--admin", s.Admin, "--token", s.Token,
		"user", "import", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("parleyctl user import: %v: %s", err, out)
	}
	return nil
}
