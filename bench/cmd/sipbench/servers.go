//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/parley-rtc/parley/bench/internal/benchnode"
)

const (
	adminToken = "bench-token"
	password   = "secret" // every bench user's password (kamailio.cfg's PASSWORD)
)

// server is a SIP server under test on 127.0.0.1.
type server struct {
	name        string
	bin         string // parleyd only: the directory of its parleyd and parleyctl
	sipPort     int
	trustedPort int // parleyd only: a trust=trusted UDP listener (no digest)
	adminPort   int // parleyd only
	log         string
	cmd         *exec.Cmd
	done        chan struct{}
}

func (s *server) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.sipPort) }

// trusted is the server seen through its trusted listener (parleyd only).
func (s *server) trusted() *server {
	t := *s
	t.sipPort = s.trustedPort
	return &t
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the server's process group, SIGKILL after 5 s.
func (s *server) stop() {
	if s == nil || s.cmd == nil || s.exited() {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

func startProc(s *server, dir string, name string, args ...string) error {
	logf, err := os.Create(s.log)
	if err != nil {
		return err
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	return nil
}

// parleydHelp is what one parleyd binary accepts, read from its -h: a
// baseline built from an older commit may lack flags of today's (for
// example plugin-link) or take other values (cluster-sip off).
type parleydHelp struct {
	flags      map[string]bool
	clusterOff string          // the cluster-sip value that runs no link: "off" or ""
	dropped    map[string]bool // flags left out (logged once)
}

var (
	helpMu    sync.Mutex
	helpCache = map[string]*parleydHelp{}
	flagRE    = regexp.MustCompile(`(?m)^\s+--?([a-z0-9][a-z0-9-]*)`)
)

// helpOf runs binDir/parleyd -h once and records its flags.
func helpOf(binDir string) (*parleydHelp, error) {
	helpMu.Lock()
	defer helpMu.Unlock()
	if h, ok := helpCache[binDir]; ok {
		return h, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// -h exits 0 or 2 depending on the flag package; the text is what counts.
	out, _ := exec.CommandContext(ctx, filepath.Join(binDir, "parleyd"), "-h").CombinedOutput()
	h := &parleydHelp{flags: map[string]bool{}, dropped: map[string]bool{}}
	for _, m := range flagRE.FindAllStringSubmatch(string(out), -1) {
		h.flags[m[1]] = true
	}
	if !h.flags["sip-listen"] || !h.flags["data-dir"] {
		return nil, fmt.Errorf("%s -h lists no --sip-listen or --data-dir: %.200q", filepath.Join(binDir, "parleyd"), out)
	}
	// "off or empty = no link" today; at older commits only "empty = off".
	if i := strings.Index(string(out), "--cluster-sip"); i >= 0 {
		text := string(out[i:])
		if j := strings.Index(text[2:], "\n  -"); j >= 0 {
			text = text[:j+2]
		}
		if strings.Contains(text, "off or empty") || strings.Contains(text, "`off`") {
			h.clusterOff = "off"
		}
	}
	helpCache[binDir] = h
	return h, nil
}

// parleydArgs keeps the flag/value pairs binDir's parleyd accepts,
// logging the ones it drops, with cluster-sip "off" spelt as it wants.
func parleydArgs(binDir string, pairs []string) ([]string, error) {
	h, err := helpOf(binDir)
	if err != nil {
		return nil, err
	}
	var out []string
	for i := 0; i+1 < len(pairs); i += 2 {
		name, val := strings.TrimLeft(pairs[i], "-"), pairs[i+1]
		if !h.flags[name] {
			helpMu.Lock()
			if !h.dropped[name] {
				h.dropped[name] = true
				log.Printf("%s/parleyd has no --%s: left out", binDir, name)
			}
			helpMu.Unlock()
			continue
		}
		if name == "cluster-sip" && (val == "off" || val == "") {
			val = h.clusterOff
		}
		out = append(out, "--"+name, val)
	}
	return out, nil
}

// startParleyd starts binDir/parleyd with a fresh data directory in dir.
// Its second UDP listener is trust=trusted: requests there skip digest
// authentication, which test (a) uses to REGISTER without credentials.
// extra flag/value pairs (--node-id, --join) override the defaults. Flags
// the binary does not know (a baseline from an older commit) are left out.
func startParleyd(binDir, dir string, extra ...string) (*server, error) {
	ports, err := freePorts(4, 1)
	if err != nil {
		return nil, err
	}
	s := &server{name: "parleyd", bin: binDir, sipPort: ports[0], adminPort: ports[1], trustedPort: ports[3],
		log: filepath.Join(dir, "parleyd.log")}
	pairs := []string{
		"--node-id", "n1", "--data-dir", filepath.Join(dir, "data"), "--domain", "localhost",
		"--sip-listen", fmt.Sprintf("udp://127.0.0.1:%d,tcp://127.0.0.1:%d,udp://127.0.0.1:%d?trust=trusted",
			s.sipPort, s.sipPort, s.trustedPort),
		"--admin-listen", fmt.Sprintf("127.0.0.1:%d", s.adminPort), "--admin-token", adminToken,
		"--raft-listen", fmt.Sprintf("127.0.0.1:%d", ports[2]), "--cluster-sip", "off", // one node: no link
		"--log-format", "json", "--log-level", "info",
		// Load comes from one IP by design: no flood protection, no XCAP.
		"--flood-rate", "0", "--xcap-listen", "", "--plugin-dir", binDir,
	}
	args, err := parleydArgs(binDir, append(pairs, extra...))
	if err != nil {
		return nil, err
	}
	err = startProc(s, dir, filepath.Join(binDir, "parleyd"), args...)
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", s.adminPort)
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if s.exited() {
			return nil, fmt.Errorf("parleyd exited; see %s", s.log)
		}
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	s.stop()
	return nil, fmt.Errorf("parleyd not ready after 15s; see %s", s.log)
}

// importUsers writes user0..user{n-1} (password "secret") as CSV and loads
// them with `parleyctl user import`.
func (s *server) importUsers(dir string, n int) (time.Duration, error) {
	path := filepath.Join(dir, "users-import.csv")
	var b strings.Builder
	b.WriteString("username,password\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "user%d,%s\n", i, password)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, filepath.Join(s.bin, "parleyctl"),
		"--admin", fmt.Sprintf("http://127.0.0.1:%d", s.adminPort), "--token", adminToken,
		"user", "import", path).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("parleyctl user import: %w: %s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprint(n)) {
		return 0, fmt.Errorf("parleyctl user import: unexpected answer %q (want %d imported)", out, n)
	}
	return time.Since(start), nil
}

// startKamailio starts Kamailio with bench/kamailio/kamailio.cfg; noauth
// adds -A NOAUTH (REGISTER without digest).
func startKamailio(cfg, dir string, noauth bool) (*server, error) {
	ports, err := freePorts(1, 1)
	if err != nil {
		return nil, err
	}
	name := "kamailio"
	if noauth {
		name = "kamailio-noauth"
	}
	s := &server{name: name, sipPort: ports[0], log: filepath.Join(dir, name+".log")}
	args := []string{"-DD", "-E", "-f", cfg, "-Y", dir, "-m", "2048", "-M", "64",
		"-l", "udp:" + s.addr(), "-l", "tcp:" + s.addr()}
	if noauth {
		args = append(args, "-A", "NOAUTH")
	}
	if err := startProc(s, dir, "kamailio", args...); err != nil {
		return nil, err
	}
	if err := waitSIP(s, 10*time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitSIP sends OPTIONS over UDP until the server answers anything.
func waitSIP(s *server, limit time.Duration) error {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer c.Close()
	dst, _ := net.ResolveUDPAddr("udp", s.addr())
	local := c.LocalAddr().String()
	buf := make([]byte, 4096)
	for i, deadline := 0, time.Now().Add(limit); time.Now().Before(deadline); i++ {
		if s.exited() {
			return fmt.Errorf("%s exited; see %s", s.name, s.log)
		}
		msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-bench-%d\r\n"+
			"From: <sip:bench@localhost>;tag=b%d\r\nTo: <sip:%s>\r\nCall-ID: bench-ready-%d\r\n"+
			"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", s.addr(), local, i, i, s.addr(), i)
		if _, err := c.WriteTo([]byte(msg), dst); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if n, _, err := c.ReadFrom(buf); err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 ") {
			return nil
		}
	}
	return errors.New(s.name + " does not answer SIP OPTIONS")
}

func freePorts(n, span int) ([]int, error) { return benchnode.FreePorts(n, span) }
