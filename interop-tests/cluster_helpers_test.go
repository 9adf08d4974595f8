//go:build interop

package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startCluster starts size parleyd processes on loopback: n1 bootstraps,
// each later node joins through the admin API of the one before it (a
// follower, which hands the join to the leader). extra flags go to all.
func startCluster(t *testing.T, size int, extra ...string) []*parleyd {
	t.Helper()
	var nodes []*parleyd
	for i := 1; i <= size; i++ {
		args := append([]string{"--node-id", fmt.Sprintf("n%d", i)}, extra...)
		if i > 1 {
			args = append(args, "--join", nodes[i-2].adminURL())
		}
		nodes = append(nodes, startParleyd(t, args...))
	}
	waitCluster(t, nodes[0], size, 20*time.Second)
	return nodes
}

func (p *parleyd) adminURL() string { return fmt.Sprintf("http://127.0.0.1:%d", p.adminPort) }

// kill9 kills the server (SIGKILL, no shutdown) and waits for it to exit.
func (p *parleyd) kill9() {
	if p.cmd == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}

// clusterState is what `parleyctl cluster status -o json` prints.
type clusterState struct {
	NodeID  string `json:"node_id"`
	State   string `json:"state"`
	Leader  string `json:"leader"`
	Members []struct {
		ID       string `json:"id"`
		Role     string `json:"role"`
		Suffrage string `json:"suffrage"`
		Healthy  bool   `json:"healthy"`
		Known    bool   `json:"known"`
		Lag      uint64 `json:"lag"`
		SIPAddr  string `json:"sip_addr"`
	} `json:"members"`
}

func (p *parleyd) clusterStatus() (clusterState, error) {
	out, err := p.ctl("cluster", "status", "-o", "json")
	if err != nil {
		return clusterState{}, err
	}
	var st clusterState
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return st, fmt.Errorf("cluster status: %v in %q", err, out)
	}
	return st, nil
}

// waitCluster waits until p sees size healthy voters and a leader.
func waitCluster(t *testing.T, p *parleyd, size int, limit time.Duration) clusterState {
	t.Helper()
	var st clusterState
	waitFor(t, limit, func() error {
		var err error
		if st, err = p.clusterStatus(); err != nil {
			return err
		}
		healthy := 0
		for _, m := range st.Members {
			if m.Suffrage == "Voter" && m.Known && m.Healthy {
				healthy++
			}
		}
		if st.Leader == "" || healthy != size {
			return fmt.Errorf("leader %q, %d healthy voters of %d members, want %d", st.Leader, healthy, len(st.Members), size)
		}
		return nil
	})
	return st
}

// leaderOf returns the index in nodes of the current leader.
func leaderOf(t *testing.T, nodes []*parleyd) int {
	t.Helper()
	idx := -1
	waitFor(t, 15*time.Second, func() error {
		for _, p := range nodes {
			if p.cmd == nil {
				continue
			}
			st, err := p.clusterStatus()
			if err != nil || st.Leader == "" {
				continue
			}
			for i, q := range nodes {
				if q.cmd != nil && st.Leader == fmt.Sprintf("n%d", i+1) {
					idx = i
					return nil
				}
			}
		}
		return fmt.Errorf("no live leader")
	})
	return idx
}

// waitFor retries f every 200 ms until it returns nil or limit passes.
func waitFor(t *testing.T, limit time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", limit, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// importUsers creates user0..user{n-1} with password "pw" on p.
func (p *parleyd) importUsers(t *testing.T, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("username,password\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "user%d,pw\n", i)
	}
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ctl("user", "import", path); err != nil {
		t.Fatal(err)
	}
}

// boundUsers returns the users with at least one binding on p.
func (p *parleyd) boundUsers() (map[string]bool, error) {
	list, err := p.bindingList()
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, b := range list {
		set[strings.TrimSuffix(b.AOR, "@"+domain)] = true
	}
	return set, nil
}

// bindingCount is how many bindings p holds.
func (p *parleyd) bindingCount() (int, error) {
	list, err := p.bindingList()
	return len(list), err
}

// bindingList is every binding p holds, through its admin API.
func (p *parleyd) bindingList() ([]struct {
	AOR string `json:"aor"`
}, error) {
	out, err := p.ctl("binding", "list", "-o", "json")
	if err != nil {
		return nil, err
	}
	var list []struct {
		AOR string `json:"aor"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return nil, err
	}
	return list, nil
}

// registerLoad is a sipp run of cluster_register.xml over users
// user{first}..user{first+n-1}, each call on its own UDP socket, at rate
// calls per second. Its log records which REGISTERs got 200.
type registerLoad struct {
	cmd     *exec.Cmd
	logFile string
	errFile string
	done    chan struct{}
	err     error
}

func startRegisterLoad(t *testing.T, target string, first, n, rate int) *registerLoad {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("SEQUENTIAL\n")
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "user%d;pw;%s;\n", i, domain)
	}
	inf := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(inf, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	l := &registerLoad{logFile: filepath.Join(dir, "outcomes.log"), errFile: filepath.Join(dir, "errors.log"), done: make(chan struct{})}
	args := []string{target, "-sf", filepath.Join(sippDir, "cluster_register.xml"), "-inf", inf,
		"-m", strconv.Itoa(n), "-r", strconv.Itoa(rate), "-l", "100", "-t", "un", "-max_socket", "400",
		"-i", "127.0.0.1", "-bind_local", "-nostdin", "-timeout", "120s",
		"-trace_logs", "-log_file", l.logFile,
		"-trace_err", "-error_file", l.errFile}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	l.cmd = exec.CommandContext(ctx, "sipp", args...)
	l.cmd.Dir = dir
	l.cmd.SysProcAttr = childAttr()
	l.cmd.Cancel = func() error { return syscall.Kill(-l.cmd.Process.Pid, syscall.SIGKILL) }
	if err := l.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start sipp: %v", err)
	}
	go func() {
		l.err = l.cmd.Wait()
		cancel()
		close(l.done)
	}()
	t.Cleanup(func() { cancel(); <-l.done })
	return l
}

// outcomes reads which users got 200 and which 503.
func (l *registerLoad) outcomes() (ok, refused map[string]bool) {
	ok, refused = map[string]bool{}, map[string]bool{}
	f, err := os.Open(l.logFile)
	if err != nil {
		return ok, refused
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i := 0; i+1 < len(fields); i++ {
			switch fields[i] {
			case "OK":
				ok[fields[i+1]] = true
			case "REFUSED":
				refused[fields[i+1]] = true
			}
		}
	}
	return ok, refused
}
