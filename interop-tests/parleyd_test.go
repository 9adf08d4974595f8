//go:build interop

package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	adminToken   = "interop-test-token"
	domain       = "localhost"
	readyTimeout = 15 * time.Second
	stopGrace    = 5 * time.Second
)

// parleyd is one single-node server under test.
type parleyd struct {
	t                            *testing.T
	dir, dataDir, logPath        string
	sipPort, adminPort, raftPort int
	xcapPort                     int      // --xcap-listen (HTTP, digest)
	extra                        []string // more parleyd flags
	cmd                          *exec.Cmd
	done                         chan struct{} // closed when cmd has exited
	waitErr                      error
}

// startParleyd starts a fresh server in a temporary data directory on free
// loopback ports, waits for /readyz, and stops it when the test ends. Its
// log (all runs appended) is printed if the test failed. extra flags are
// added to the command line.
func startParleyd(t *testing.T, extra ...string) *parleyd {
	t.Helper()
	p := newParleyd(t, extra...)
	p.start()
	return p
}

// newParleyd prepares a server (ports, data directory, log, cleanup)
// without starting it.
func newParleyd(t *testing.T, extra ...string) *parleyd {
	t.Helper()
	ports := freePorts(t, 4, 2) // span 2: the cluster link takes raft port + 1 (cluster-sip auto)
	p := &parleyd{t: t, dir: t.TempDir(), sipPort: ports[0], adminPort: ports[1], raftPort: ports[2], xcapPort: ports[3], extra: extra}
	p.dataDir = filepath.Join(p.dir, "data")
	p.logPath = filepath.Join(p.dir, "parleyd.log")
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("parleyd log %s (tail):\n%s", p.logPath, tailFile(p.logPath, 24<<10))
		}
	})
	return p
}

func (p *parleyd) args() []string {
	return append([]string{
		"--node-id", "n1",
		"--data-dir", p.dataDir,
		"--domain", domain,
		"--sip-listen", fmt.Sprintf("udp://127.0.0.1:%d,tcp://127.0.0.1:%d", p.sipPort, p.sipPort),
		"--admin-listen", fmt.Sprintf("127.0.0.1:%d", p.adminPort),
		"--admin-token", adminToken,
		"--raft-listen", fmt.Sprintf("127.0.0.1:%d", p.raftPort),
		"--xcap-listen", fmt.Sprintf("127.0.0.1:%d", p.xcapPort),
		"--log-format", "json",
		"--log-level", "debug",
	}, p.extra...)
}

// start runs bin/parleyd (again, with the same data directory and ports)
// and waits until /readyz answers 200.
func (p *parleyd) start() {
	p.t.Helper()
	p.launch()
	if err := p.waitReady(readyTimeout); err != nil {
		p.t.Fatalf("parleyd not ready: %v\nlog tail:\n%s", err, tailFile(p.logPath, 8<<10))
	}
}

// launch runs bin/parleyd without waiting for it to be ready.
func (p *parleyd) launch() {
	p.t.Helper()
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	fmt.Fprintf(logf, "==== %s start: %s %s\n", time.Now().Format(time.RFC3339Nano), parleydBin, strings.Join(p.args(), " "))
	cmd := exec.Command(parleydBin, p.args()...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		p.t.Fatalf("start parleyd: %v", err)
	}
	p.cmd, p.done, p.waitErr = cmd, make(chan struct{}), nil
	go func(done chan struct{}) {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(done)
	}(p.done)
}

func (p *parleyd) waitReady(limit time.Duration) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", p.adminPort)
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	last := errors.New("no answer yet")
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("parleyd exited: %v", p.waitErr)
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /readyz: %s", resp.Status)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("after %v: %v", limit, last)
}

// stop sends SIGTERM, then SIGKILL after stopGrace. It reports whether the
// server exited by itself within the grace period (true if not running).
func (p *parleyd) stop() bool {
	if p.cmd == nil {
		return true
	}
	defer func() { p.cmd = nil }()
	select {
	case <-p.done:
		return true
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return true
	case <-time.After(stopGrace):
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	return false
}

func (p *parleyd) sipAddr() string { return fmt.Sprintf("127.0.0.1:%d", p.sipPort) }

// ctl runs bin/parleyctl against this server and returns its stdout.
func (p *parleyd) ctl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	full := append([]string{"--admin", fmt.Sprintf("http://127.0.0.1:%d", p.adminPort), "--token", adminToken}, args...)
	cmd := exec.CommandContext(ctx, parleyctlBin, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("parleyctl %s: %v\nstdout: %s\nstderr: %s",
			strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// addUser creates a user through parleyctl.
func (p *parleyd) addUser(name, password string) {
	p.t.Helper()
	if _, err := p.ctl("user", "add", name, "--password", password); err != nil {
		p.t.Fatal(err)
	}
}

// binding is what `parleyctl binding list USER -o json` prints per entry;
// extra fields are kept in Raw.
type binding struct {
	AOR     string `json:"aor"`
	Contact string `json:"contact"`
	Raw     map[string]any
}

func (p *parleyd) bindings(user string) ([]binding, error) {
	out, err := p.ctl("binding", "list", user, "-o", "json")
	if err != nil {
		return nil, err
	}
	var raws []map[string]any
	if err := json.Unmarshal([]byte(out), &raws); err != nil {
		return nil, fmt.Errorf("binding list %s -o json: %v in %q", user, err, out)
	}
	var bs []binding
	for _, r := range raws {
		b := binding{Raw: r}
		b.AOR, _ = r["aor"].(string)
		b.Contact, _ = r["contact"].(string)
		bs = append(bs, b)
	}
	return bs, nil
}

// hasBinding reports whether user has a binding whose contact is on
// 127.0.0.1:port.
func (p *parleyd) hasBinding(user string, port int) (bool, []binding, error) {
	bs, err := p.bindings(user)
	if err != nil {
		return false, nil, err
	}
	for _, b := range bs {
		if strings.Contains(b.Contact, fmt.Sprintf("127.0.0.1:%d", port)) {
			return true, bs, nil
		}
	}
	return false, bs, nil
}

// waitBinding polls until user's binding on port is present (want) or gone.
func (p *parleyd) waitBinding(user string, port int, want bool, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		has, bs, err := p.hasBinding(user, port)
		if err == nil && has == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("binding of %s on port %d present=%v, want %v after %v (bindings %+v, err %v)",
				user, port, has, want, limit, bs, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// tailFile returns at most the last n bytes of a file.
func tailFile(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	off := st.Size() - n
	if off < 0 {
		off = 0
	}
	buf := make([]byte, st.Size()-off)
	_, _ = f.ReadAt(buf, off)
	return string(buf)
}
