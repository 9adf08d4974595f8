//go:build interop

package interop

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pluginDir copies the example plugin binaries into a directory of the
// test's own (a test may take a binary away to keep its plugin down).
func pluginDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"contentfilter", "afterhours", "echo"} {
		src, err := os.Open(filepath.Join(pluginBinDir, name))
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(dst, src)
		src.Close()
		if cerr := dst.Close(); err != nil || cerr != nil {
			t.Fatal(err, cerr)
		}
	}
	return dir
}

// buildVerbs builds the verbs test plugin (plugins/host/testdata/verbs)
// into dir.
func buildVerbs(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "verbs"), "./plugins/host/testdata/verbs")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build verbs: %v\n%s", err, out)
	}
}

// sendMessage runs sipp as alice: a MESSAGE with body to ruri; it returns
// the final status.
func sendMessage(t *testing.T, p *parleyd, name, ruri, body string) int {
	t.Helper()
	run, err := runSipp(t, p.sipAddr(), sipp{Name: name, Scenario: "plugin_uac_message.xml", User: "alice", Password: "secret",
		Keys: map[string]string{"ruri": ruri, "body": body}})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	code, _ := finalFor(run)
	return code
}

// untilCode resends until the final status is want (a plugin just added
// or restarting is skipped meanwhile), at most tries times.
func untilCode(t *testing.T, p *parleyd, name, ruri, body string, want, tries int) {
	t.Helper()
	got := 0
	for i := 0; i < tries; i++ {
		if got = sendMessage(t, p, fmt.Sprintf("%s-%d", name, i), ruri, body); got == want {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("%s: final %d, want %d", name, got, want)
}

// pluginPID finds parleyd's child process running binary name (0: none).
func pluginPID(t *testing.T, p *parleyd, name string) int {
	t.Helper()
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", p.cmd.Process.Pid))
	for _, f := range tasks {
		data, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(data)) {
			comm, _ := os.ReadFile("/proc/" + field + "/comm")
			if strings.TrimSpace(string(comm)) == name {
				pid, _ := strconv.Atoi(field)
				return pid
			}
		}
	}
	return 0
}

// TestPluginFilterAndAfterHours: the content filter (before the router)
// blocks a MESSAGE from sipp with a listed word and lets a clean one
// reach bob; the after-hours plugin (after the router, clock set to a
// Saturday night) answers 302 to voicemail.
func TestPluginFilterAndAfterHours(t *testing.T) {
	dir := pluginDir(t)
	p := startParleyd(t, "--plugin-dir", dir)
	p.addUser("alice", "secret")
	p.addUser("bob", "secret")
	if _, err := p.ctl("app", "add", "filter", "--kind", "plugin", "--command", "contentfilter", "--position", "50",
		"--setting", "words=secret,password", "--methods", "MESSAGE"); err != nil {
		t.Fatal(err)
	}
	untilCode(t, p, "blocked", "sip:bob@localhost", "my password is hunter2", 403, 20)

	cid := uniqueCallID(t)
	bob := startRegisteredUAS(t, p, "uas_message.xml", "bob", cid)
	if _, err := runSipp(t, p.sipAddr(), sipp{Name: "clean", Scenario: "uac_message.xml", User: "alice",
		Password: "secret", Service: "bob", CallID: cid}); err != nil {
		t.Fatal(err)
	}
	if err := bob.wait(); err != nil {
		t.Fatal(err)
	}

	if _, err := p.ctl("app", "add", "afterhours", "--kind", "plugin", "--command", "afterhours", "--position", "150",
		"--setting", "now=2026-11-21T23:00:00Z", "--setting", "voicemail=sip:voicemail@localhost"); err != nil {
		t.Fatal(err)
	}
	untilCode(t, p, "after-hours", "sip:bob@localhost", "are you there?", 302, 20)
	out, err := p.ctl("app", "list")
	if err != nil || !strings.Contains(out, "afterhours") || !strings.Contains(out, "contentfilter") {
		t.Fatalf("app list: %v\n%s", err, out)
	}
}

// TestPluginStrictRoute: a trusted peer's MESSAGE carrying a Route is
// never shown to a plugin with strictRoute=false (the filter would block
// it); with strictRoute=true the same message is blocked.
func TestPluginStrictRoute(t *testing.T) {
	dir := pluginDir(t)
	p := startParleyd(t, "--plugin-dir", dir)
	p.addUser("alice", "secret")
	peerPort := freePort(t)
	p.addRoute(t, "host:peer.invalid", fmt.Sprintf("sip:127.0.0.1:%d", peerPort), "--trusted")
	next := newSipUA(t, p.sipAddr(), "next", "unused") // answers every request with 200
	if _, err := p.ctl("app", "add", "filter", "--kind", "plugin", "--command", "contentfilter", "--position", "50",
		"--setting", "words=secret"); err != nil {
		t.Fatal(err)
	}
	untilCode(t, p, "filter-up", "sip:bob@localhost", "secret", 403, 20) // the plugin runs

	send := func(name string) int {
		run, err := runSipp(t, p.sipAddr(), sipp{Name: name, Scenario: "plugin_trusted_route_message.xml", LocalPort: peerPort,
			Keys: map[string]string{"ruri": "sip:someone@elsewhere.invalid", "route": "sip:" + next.local + ";lr", "body": "the secret"}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		code, _ := finalFor(run)
		return code
	}
	if code := send("route-not-strict"); code != 200 {
		t.Fatalf("a strictRoute=false plugin saw a request with a Route: %d", code)
	}
	if _, err := p.ctl("app", "set", "filter", "--strict-route", "true"); err != nil {
		t.Fatal(err)
	}
	if code := send("route-strict"); code != 403 {
		t.Fatalf("a strictRoute=true plugin did not see the request: %d", code)
	}
}

// TestPluginKillRestartCritical: kill -9 the filter's process; while its
// binary is away the chain skips it (the blocked word gets through to
// the router, 202 as bob is not registered: stored for him), and once the binary is back
// the host restarts it (403 again, a new process). Made critical, its
// death makes the node answer 503.
func TestPluginKillRestartCritical(t *testing.T) {
	dir := pluginDir(t)
	p := startParleyd(t, "--plugin-dir", dir)
	p.addUser("alice", "secret")
	p.addUser("bob", "secret")
	if _, err := p.ctl("app", "add", "filter", "--kind", "plugin", "--command", "contentfilter", "--position", "50",
		"--setting", "words=secret"); err != nil {
		t.Fatal(err)
	}
	untilCode(t, p, "up", "sip:bob@localhost", "secret", 403, 20)
	first := pluginPID(t, p, "contentfilter")
	if first == 0 {
		t.Fatal("no contentfilter process under parleyd")
	}
	bin := filepath.Join(dir, "contentfilter")
	kill := func(pid int) {
		if err := os.Rename(bin, bin+".away"); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	kill(first)
	untilCode(t, p, "skipped", "sip:bob@localhost", "secret", 202, 10)
	if err := os.Rename(bin+".away", bin); err != nil {
		t.Fatal(err)
	}
	untilCode(t, p, "restarted", "sip:bob@localhost", "secret", 403, 60)
	second := pluginPID(t, p, "contentfilter")
	if second == 0 || second == first {
		t.Fatalf("plugin process %d after restart (first %d)", second, first)
	}
	if out, err := p.ctl("app", "list"); err != nil || !strings.Contains(out, fmt.Sprintf("up pid %d", second)) {
		t.Fatalf("app list does not show the new process %d: %v\n%s", second, err, out)
	}

	if _, err := p.ctl("app", "set", "filter", "--critical", "true"); err != nil {
		t.Fatal(err)
	}
	kill(second)
	untilCode(t, p, "critical-down", "sip:bob@localhost", "hello", 503, 10)
}

// TestPluginExitsWithHost: kill -9 parleyd; its plugin process exits too
// (Pdeathsig; the SDK's parent watchdog elsewhere) instead of lingering.
func TestPluginExitsWithHost(t *testing.T) {
	dir := pluginDir(t)
	p := startParleyd(t, "--plugin-dir", dir)
	p.addUser("alice", "secret")
	if _, err := p.ctl("app", "add", "filter", "--kind", "plugin", "--command", "contentfilter", "--setting", "words=secret"); err != nil {
		t.Fatal(err)
	}
	untilCode(t, p, "up", "sip:bob@localhost", "secret", 403, 20)
	pid := pluginPID(t, p, "contentfilter")
	if pid == 0 {
		t.Fatal("no contentfilter process under parleyd")
	}
	if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		// Gone, or a zombie waiting for its new parent to reap it.
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("plugin %d still running 5 s after parleyd was killed", pid)
}

// TestPluginHoldTryingTimeout (--sip-timeout 4s): a plugin that holds a
// MESSAGE gets it kept alive with 100 Trying, then cancelled and answered
// 504 at the transaction lifetime; the sender is never left without an
// answer.
func TestPluginHoldTryingTimeout(t *testing.T) {
	dir := pluginDir(t)
	buildVerbs(t, dir)
	p := startParleyd(t, "--plugin-dir", dir, "--sip-timeout", "4s")
	p.addUser("alice", "secret")
	p.addUser("bob", "secret")
	if _, err := p.ctl("app", "add", "verbs", "--kind", "plugin", "--command", "verbs", "--position", "50"); err != nil {
		t.Fatal(err)
	}
	untilCode(t, p, "up", "sip:x@gw.example", "hi", 202, 20) // the plugin's claim answers 202 once it runs
	start := time.Now()
	run, err := runSipp(t, p.sipAddr(), sipp{Name: "held", Scenario: "plugin_uac_message.xml", User: "alice", Password: "secret",
		Keys: map[string]string{"ruri": "sip:bob@localhost", "body": "sleep 60s"}})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if code, _ := finalFor(run); code != 504 {
		t.Fatalf("held request: final %d, want 504", code)
	}
	if countReceivedCode(sippLog(run.msgLog), 100) == 0 {
		t.Fatalf("no 100 Trying during the hold:\n%s", tailFile(run.msgLog, 8<<10))
	}
	if took < 3*time.Second {
		t.Fatalf("answered 504 after %v, before the transaction lifetime", took)
	}
}

// countReceivedCode counts the responses with code sipp received.
func countReceivedCode(log []sippLogged, code int) int {
	n := 0
	for _, m := range log {
		if !m.sent && m.msg.Code == code {
			n++
		}
	}
	return n
}

// TestPluginSendRequestAcrossCluster: the verbs test plugin runs on every
// node of three. Its SendRequest without a target (through the node's
// SIP link) of a MESSAGE to bob reaches bob's baresip, registered over
// TCP on another node: the node routes it through bob's home node and
// his TCP flow. A MESSAGE to a user=phone number follows the static
// route phone:+1 to its next hop (a UA that answers 200).
func TestPluginSendRequestAcrossCluster(t *testing.T) {
	dir := pluginDir(t)
	buildVerbs(t, dir)
	nodes := startCluster(t, 3, "--plugin-dir", dir)
	nodes[0].addUser("alice", "secret")
	nodes[0].addUser("bob", "secret")
	if _, err := nodes[0].ctl("app", "add", "verbs", "--kind", "plugin", "--command", "verbs", "--position", "50", "--methods", "MESSAGE"); err != nil {
		t.Fatal(err)
	}
	gw := newSipUA(t, nodes[0].sipAddr(), "gw", "unused") // answers every request with 200
	nodes[0].addRoute(t, "phone:+1", "sip:"+gw.local)
	bob := startBaresipWith(t, nodes[1], "bob", baresipOptions{transport: "tcp"})
	if err := nodes[1].waitBinding("bob", bob.port, true, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if bs, err := nodes[0].bindings("bob"); err != nil || len(bs) != 1 || !strings.Contains(strings.ToLower(bs[0].Contact), "transport=tcp") || bs[0].Raw["home"] != "n2" {
		t.Fatalf("bob's binding is not over TCP with home n2: %+v %v", bs, err)
	} else {
		t.Logf("bob's binding: %s %v", bs[0].Contact, bs[0].Raw["home"])
	}

	alice := newSipUA(t, nodes[0].sipAddr(), "alice", "secret")
	send := func(body string) *sipMsg {
		t.Helper()
		var res *sipMsg
		waitFor(t, 20*time.Second, func() error { // the plugin is starting on n1
			var err error
			res, err = alice.send(&outReq{Method: "MESSAGE", RURI: "sip:nobody@" + domain,
				From: fmt.Sprintf("<%s>;tag=%s", alice.aor(), randHex(4)), To: "<sip:nobody@" + domain + ">",
				CallID: "verbs-" + randHex(8) + "@" + alice.local, CSeq: 1, ContentType: "text/plain", Body: body})
			if err != nil {
				return err
			}
			if res.Code != 200 || res.Header("X-Sent") == "" {
				return fmt.Errorf("%q: %d %s (X-Error %q)", body, res.Code, res.Reason, res.Header("X-Error"))
			}
			return nil
		})
		return res
	}
	if res := send("send bob@" + domain); res.Header("X-Sent") != "200" {
		t.Fatalf("SendRequest to bob on n2 over TCP: %s (X-Error %q)", res.Header("X-Sent"), res.Header("X-Error"))
	}
	if err := bob.waitOutput(`"from the gateway"`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := bob.waitOutput("sip:robot@gw.example", time.Second); err != nil {
		t.Error(err)
	}

	if res := send("send +12065550123@" + domain + ";user=phone"); res.Header("X-Sent") != "200" {
		t.Fatalf("SendRequest to a user=phone number: %s (X-Error %q)", res.Header("X-Sent"), res.Header("X-Error"))
	}
	gw.mu.Lock()
	defer gw.mu.Unlock()
	for _, m := range gw.stray {
		if m.Method == "MESSAGE" && strings.Contains(m.RURI, "+12065550123") {
			return
		}
	}
	t.Fatalf("the static route's next hop got no MESSAGE for +12065550123 (%d requests)", len(gw.stray))
}
