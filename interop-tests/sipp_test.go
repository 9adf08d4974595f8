//go:build interop

package interop

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sipp describes one sipp run against the server. The injection file it
// gets (-inf) has one line: User;Password;domain ([field0..2]).
type sipp struct {
	Name      string            // label for the trace files; default scenario name
	Scenario  string            // file name in testdata/sipp
	User      string            // [field0], also the digest username
	Password  string            // [field1]
	Service   string            // -s: the target user for MESSAGE/INVITE
	LocalPort int               // -p; 0 picks a free port
	CallID    string            // -cid_str, e.g. "relay-%u-abc"
	Keys      map[string]string // -key NAME VALUE
	Calls     int               // -m; default 1
	Timeout   time.Duration     // -timeout (a failure); default 20 s
}

// sippProc is a running or finished sipp.
type sippProc struct {
	s                   sipp
	msgLog, errLog, out string
	cmd                 *exec.Cmd
	done                chan struct{}
	err                 error
	target              string
	started, finishedAt time.Time
}

// runSipp runs sipp in the foreground and returns nil if every call passed;
// otherwise an error with sipp's exit status, error log and message trace.
func runSipp(t *testing.T, target string, s sipp) (*sippProc, error) {
	t.Helper()
	p := startSipp(t, target, s)
	return p, p.wait()
}

// startSipp starts sipp in the background; call wait for its result. It is
// killed at the end of the test if still running.
func startSipp(t *testing.T, target string, s sipp) *sippProc {
	t.Helper()
	if s.Name == "" {
		s.Name = strings.TrimSuffix(s.Scenario, ".xml")
	}
	if s.Calls == 0 {
		s.Calls = 1
	}
	if s.Timeout == 0 {
		s.Timeout = 20 * time.Second
	}
	if s.LocalPort == 0 {
		s.LocalPort = freePort(t)
	}
	dir := filepath.Join(t.TempDir(), "sipp-"+s.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	inf := filepath.Join(dir, "users.csv")
	line := fmt.Sprintf("SEQUENTIAL\n%s;%s;%s;\n", s.User, s.Password, domain)
	if err := os.WriteFile(inf, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &sippProc{s: s, target: target, done: make(chan struct{}),
		msgLog: filepath.Join(dir, "messages.log"),
		errLog: filepath.Join(dir, "errors.log"),
		out:    filepath.Join(dir, "screen.log")}
	args := []string{target,
		"-sf", filepath.Join(sippDir, s.Scenario),
		"-inf", inf,
		"-m", strconv.Itoa(s.Calls),
		"-i", "127.0.0.1", "-bind_local",
		"-p", strconv.Itoa(s.LocalPort),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePorts(t, 1, 4)[0]),
		"-t", "u1",
		"-timeout", fmt.Sprintf("%ds", int(s.Timeout.Seconds())), "-timeout_error",
		"-trace_err", "-error_file", p.errLog,
		"-trace_msg", "-message_file", p.msgLog,
		"-nostdin",
	}
	if s.Service != "" {
		args = append(args, "-s", s.Service)
	}
	if s.CallID != "" {
		args = append(args, "-cid_str", s.CallID)
	}
	keys := make([]string, 0, len(s.Keys))
	for k := range s.Keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-key", k, s.Keys[k])
	}
	out, err := os.Create(p.out)
	if err != nil {
		t.Fatal(err)
	}
	// A hard bound on top of sipp's own -timeout.
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout+15*time.Second)
	p.cmd = exec.CommandContext(ctx, "sipp", args...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.cmd.SysProcAttr = childAttr()
	p.cmd.Cancel = func() error { return syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) }
	t.Logf("sipp %s: sipp %s", s.Name, strings.Join(args, " "))
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		out.Close()
		cancel()
		t.Fatalf("start sipp: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		p.finishedAt = time.Now()
		out.Close()
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// exited reports whether sipp has finished.
func (p *sippProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for sipp and explains a failure.
func (p *sippProc) wait() error {
	<-p.done
	if p.err == nil {
		return nil
	}
	code := -1
	if ee, ok := p.err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return fmt.Errorf("sipp %s (%s) against %s failed after %v: %v (%s)\n--- errors (%s):\n%s\n--- messages (tail of %s):\n%s\n--- screen (tail):\n%s",
		p.s.Name, p.s.Scenario, p.target, p.finishedAt.Sub(p.started).Round(time.Millisecond),
		p.err, sippExitMeaning(code), p.errLog, tailFile(p.errLog, 4<<10),
		p.msgLog, tailFile(p.msgLog, 12<<10), tailFile(p.out, 2<<10))
}

// messages returns the full -trace_msg log.
func (p *sippProc) messages() string {
	b, _ := os.ReadFile(p.msgLog)
	return string(b)
}

func sippExitMeaning(code int) string {
	switch code {
	case 0:
		return "all calls passed"
	case 1:
		return "at least one call failed"
	case 97:
		return "exit on internal command, calls may have been processed"
	case 99:
		return "normal exit without calls processed"
	case 253:
		return "fatal error: too many RTP streams? (-3)"
	case 254:
		return "fatal error binding a socket (-2)"
	case 255:
		return "fatal error (-1): -timeout reached, bad scenario, socket, or a challenge whose first algorithm= is not MD5"
	case -1:
		return "killed or not started"
	}
	return "unknown exit code"
}
