//go:build linux

// Package benchnode starts and measures the parleyd under test for the
// benchmark tools in bench/cmd: a fresh node on free loopback ports with
// its pprof server, its heap in use after a forced GC (/metrics), its
// resident set size (/proc), and the markdown section a tool writes into
// docs/benchmarks.md.
package benchnode

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parley-rtc/parley/internal/testport"
)

// Server is the parleyd under test: started here, or given by flags
// (then Stop does nothing and RSS is unknown).
type Server struct {
	SIP, Admin, Token, Pprof string // host:port, http://host:port, token, host:port ("" = none)
	BinDir, Log              string
	cmd                      *exec.Cmd
	done                     chan struct{}
}

// Start runs binDir/parleyd with a fresh data directory in dir on free
// loopback ports; listen gives the --sip-listen value for the SIP port
// (host:port). extra flags are appended.
func Start(binDir, dir, domain string, listen func(sip string) string, extra ...string) (*Server, error) {
	ports, err := FreePorts(5, 1)
	if err != nil {
		return nil, err
	}
	s := &Server{SIP: fmt.Sprintf("127.0.0.1:%d", ports[0]), Admin: fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
		Token: "bench-token", Pprof: fmt.Sprintf("127.0.0.1:%d", ports[4]), BinDir: binDir,
		Log: filepath.Join(dir, "parleyd.log"), done: make(chan struct{})}
	logf, err := os.Create(s.Log)
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--node-id", "n1", "--data-dir", filepath.Join(dir, "data"), "--domain", domain,
		"--sip-listen", listen(s.SIP), "--admin-listen", strings.TrimPrefix(s.Admin, "http://"),
		"--admin-token", s.Token, "--raft-listen", fmt.Sprintf("127.0.0.1:%d", ports[2]),
		"--cluster-sip", "off", // one node unless extra names a link
		"--xcap-listen", fmt.Sprintf("127.0.0.1:%d", ports[3]), "--pprof-listen", s.Pprof,
		"--log-level", "warn",
	}, extra...)
	s.cmd = exec.Command(filepath.Join(binDir, "parleyd"), args...)
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
			return nil, fmt.Errorf("parleyd exited; see %s", s.Log)
		default:
		}
		if res, err := http.Get(s.Admin + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("parleyd not ready after 20 s; see %s", s.Log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop sends SIGTERM, then SIGKILL after 5 s (only a server started here).
func (s *Server) Stop() {
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

// HeapInUse forces a collection through pprof (when available) and reads
// go_memstats_heap_inuse_bytes from /metrics.
func (s *Server) HeapInUse() (float64, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	if s.Pprof != "" {
		res, err := client.Get("http://" + s.Pprof + "/debug/pprof/heap?gc=1")
		if err != nil {
			return 0, fmt.Errorf("forcing a GC through pprof: %v", err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	res, err := client.Get(s.Admin + "/metrics")
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

// RSS is the resident set size of a parleyd started here, in bytes
// (VmRSS of /proc/PID/status).
func (s *Server) RSS() (float64, error) {
	if s.cmd == nil {
		return 0, errors.New("parleyd not started here")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// FreePorts returns n loopback ports below the ephemeral range, each free
// for UDP and TCP (with span-1 more free ports after it), distinct within
// this process.
func FreePorts(n, span int) ([]int, error) { return testport.Free(n, span) }

// PID is the process id of a parleyd started here (0 otherwise).
func (s *Server) PID() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}
