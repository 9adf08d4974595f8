//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is the parleyd under test: started here, or given by flags.
type server struct {
	sip, admin, token, pprof string // host:port, http://host:port, token, host:port ("" = none)
	binDir, log              string
	cmd                      *exec.Cmd
	done                     chan struct{}
}

// startParleyd runs bin/parleyd on free loopback ports with a fresh data
// directory in dir.
func startParleyd(binDir, dir string) (*server, error) {
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	s := &server{sip: fmt.Sprintf("127.0.0.1:%d", ports[0]), admin: fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
		token: "fanout-bench-token", pprof: fmt.Sprintf("127.0.0.1:%d", ports[4]), binDir: binDir,
		log: filepath.Join(dir, "parleyd.log"), done: make(chan struct{})}
	logf, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(filepath.Join(binDir, "parleyd"),
		"--node-id", "n1", "--data-dir", filepath.Join(dir, "data"), "--domain", domain,
		"--sip-listen", "udp://"+s.sip, "--admin-listen", strings.TrimPrefix(s.admin, "http://"),
		"--admin-token", s.token, "--raft-listen", fmt.Sprintf("127.0.0.1:%d", ports[2]),
		"--xcap-listen", fmt.Sprintf("127.0.0.1:%d", ports[3]), "--pprof-listen", s.pprof,
		"--log-level", "warn",
		"--flood-rate", "0") // 1,000 watchers share one IP by design
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { _ = s.cmd.Wait(); logf.Close(); close(s.done) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("parleyd exited; see %s", s.log)
		default:
		}
		if res, err := http.Get(s.admin + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("parleyd not ready after 20 s; see %s", s.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGTERM, then SIGKILL after 5 s (only a server started here).
func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

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
	out, err := exec.CommandContext(ctx, filepath.Join(s.binDir, "parleyctl"), "--admin", s.admin, "--token", s.token,
		"user", "import", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("parleyctl user import: %v: %s", err, out)
	}
	return nil
}

// heapInUse forces a collection through pprof (when available) and reads
// go_memstats_heap_inuse_bytes from /metrics.
func (s *server) heapInUse() (float64, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	if s.pprof != "" {
		res, err := client.Get("http://" + s.pprof + "/debug/pprof/heap?gc=1")
		if err != nil {
			return 0, fmt.Errorf("forcing a GC through pprof: %v", err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	res, err := client.Get(s.admin + "/metrics")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, errors.New("no go_memstats_heap_inuse_bytes in /metrics")
}

// freePorts returns n distinct loopback ports free for TCP and UDP.
func freePorts(n int) ([]int, error) {
	seen := map[int]bool{}
	var out []int
	for tries := 0; len(out) < n; tries++ {
		if tries > 200 {
			return nil, errors.New("no free loopback ports")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			continue
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil || seen[p] {
			continue
		}
		u.Close()
		seen[p] = true
		out = append(out, p)
	}
	return out, nil
}
