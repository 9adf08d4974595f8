//go:build interop

package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/plugins/examples/echo"
)

// The echo test service (plugins/examples/echo) as an out-of-process
// plugin of bin/parleyd, called by a real baresip through the node.

// addEcho adds the echo plugin (bin/echo) to p's chain with its own RTP
// port range and more settings (extra: more parleyctl flags).
func addEcho(t *testing.T, p *parleyd, settings map[string]string, extra ...string) {
	t.Helper()
	ports := freePorts(t, 1, 100)[0]
	args := []string{"app", "add", "echo", "--kind", "plugin", "--command", "echo",
		"--setting", fmt.Sprintf("rtp-ports=%d-%d", ports, ports+99)}
	for k, v := range settings {
		args = append(args, "--setting", k+"="+v)
	}
	if _, err := p.ctl(append(args, extra...)...); err != nil {
		t.Fatal(err)
	}
}

// echoHealth is the echo's answer to its health ping: an OPTIONS to
// sip:echo@localhost sent through the node (digest as a user), which the
// chain entry proxies to the plugin's user agent over the SIP link.
type echoHealth struct {
	calls, sockets, goroutines, runtime, timeouts int
}

func (h echoHealth) idle() bool { return h.calls == 0 && h.sockets == 0 && h.goroutines == 0 }

func (h echoHealth) String() string {
	return fmt.Sprintf("calls %d, media sockets %d, echo goroutines %d, process goroutines %d, rtp timeouts %d",
		h.calls, h.sockets, h.goroutines, h.runtime, h.timeouts)
}

// pingEcho sends one health ping as ua; ok is false unless the echo
// answered 200 with its health headers.
func pingEcho(ua *sipUA) (echoHealth, bool, error) {
	res, err := ua.send(&outReq{Method: "OPTIONS", RURI: "sip:echo@" + domain,
		From: fmt.Sprintf("<%s>;tag=%s", ua.aor(), randHex(4)), To: "<sip:echo@" + domain + ">",
		CallID: "ping-" + randHex(8) + "@" + ua.local, CSeq: 1})
	if err != nil {
		return echoHealth{}, false, err
	}
	if res.Code != 200 || res.Header(echo.HeaderCalls) == "" {
		return echoHealth{}, false, fmt.Errorf("health ping: %d %s (%s: %q)", res.Code, res.Reason, echo.HeaderCalls, res.Header(echo.HeaderCalls))
	}
	n := func(h string) int { v, _ := strconv.Atoi(res.Header(h)); return v }
	return echoHealth{calls: n(echo.HeaderCalls), sockets: n(echo.HeaderSockets), goroutines: n(echo.HeaderGoroutines),
		runtime: n(echo.HeaderRuntime), timeouts: n(echo.HeaderTimeouts)}, true, nil
}

// waitEchoHealth pings until ok accepts the answer (every 200 ms, within
// limit) and returns it.
func waitEchoHealth(t *testing.T, ua *sipUA, what string, limit time.Duration, ok func(echoHealth) bool) echoHealth {
	t.Helper()
	var h echoHealth
	waitFor(t, limit, func() error {
		got, answered, err := pingEcho(ua)
		if !answered {
			return err
		}
		if h = got; !ok(h) {
			return fmt.Errorf("%s: echo health: %v", what, h)
		}
		return nil
	})
	return h
}

// socketFDs counts the sockets among pid's open files.
func socketFDs(t *testing.T, pid int) int {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink(dir + "/" + e.Name()); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// startEchoCaller starts a media baresip (440 Hz sine, recording) for
// user, registered with digest over UDP to p, answering nothing itself.
func startEchoCaller(t *testing.T, p *parleyd, user string) (*baresip, string) {
	t.Helper()
	b, rec := startBaresipMedia(t, mediaOptions{user: user, toneHz: 440,
		account: fmt.Sprintf("<sip:%s@%s>;auth_pass=secret;outbound=\"sip:%s;transport=udp\";regint=600", user, domain, p.sipAddr())})
	if err := b.waitOutput("registered successfully", 15*time.Second); err != nil {
		t.Fatalf("baresip %s did not register: %v", user, err)
	}
	return b, rec
}

// callEcho dials the echo, lets the tone run for talk, hangs up and
// checks that what baresip recorded holds 440 Hz for at least 3 s.
func callEcho(t *testing.T, b *baresip, rec string, talk time.Duration) {
	t.Helper()
	start := time.Now()
	b.command("/dial sip:echo@" + domain)
	if err := b.waitOutput("Call established", 15*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("call established after %v", time.Since(start).Round(time.Millisecond))
	time.Sleep(talk)
	b.command("/hangup")
	if err := b.waitOutput("terminated", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	b.quit() // sndfile closes its files
	checkTone(t, rec)
}

// checkTone reads baresip's recording in rec: 440 Hz (±10 Hz) for 3 s or more.
func checkTone(t *testing.T, rec string) {
	t.Helper()
	a := receivedAudio(t, rec)
	n := a.toneSeconds(440, 10)
	t.Logf("recorded %.1f s at %d Hz, %d s of 440 Hz", a.seconds(), a.rate, n)
	if n < 3 {
		for from := 0; from+a.rate <= len(a.samples); from += a.rate {
			hz, share := a.dominantFrequency(from, a.rate)
			t.Logf("second %d: %.1f Hz (%.2f)", from/a.rate, hz, share)
		}
		t.Fatalf("%d seconds of 440 Hz received, want at least 3", n)
	}
}

// TestEchoThroughParleyd: baresip, registered to parleyd with digest over
// UDP, calls sip:echo@localhost; the echo plugin (bin/echo, added with
// parleyctl) answers through the SIP link and sends the 440 Hz tone back.
// After baresip hangs up, the echo holds no call, media socket or
// goroutine of its own (its health ping says so), the plugin process's
// sockets are back to what they were before the call, and so, once
// sipgo's transaction timers ran out, are its goroutines.
func TestEchoThroughParleyd(t *testing.T) {
	p := startParleyd(t, "--plugin-dir", pluginDir(t))
	p.addUser("alice", "secret")
	p.addUser("monitor", "secret")
	addEcho(t, p, map[string]string{"rtp-timeout": "10s"})
	mon := newSipUA(t, p.sipAddr(), "monitor", "secret")
	before := waitEchoHealth(t, mon, "echo up", 20*time.Second, echoHealth.idle)
	pid := pluginPID(t, p, "echo")
	if pid == 0 {
		t.Fatal("no echo process under parleyd")
	}
	fds := socketFDs(t, pid)
	t.Logf("before the call: %v; %d sockets open in echo (pid %d)", before, fds, pid)

	b, rec := startEchoCaller(t, p, "alice")
	b.command("/dial sip:echo@" + domain)
	if err := b.waitOutput("Call established", 15*time.Second); err != nil {
		t.Fatal(err)
	}
	during := waitEchoHealth(t, mon, "in the call", 5*time.Second, func(h echoHealth) bool { return h.calls == 1 })
	if during.sockets != 2 || during.goroutines != 2 {
		t.Errorf("during the call: %v, want 2 media sockets and 2 readers", during)
	}
	if got := socketFDs(t, pid); got != fds+2 {
		t.Errorf("%d sockets open in echo during the call, want %d+2", got, fds)
	}
	t.Logf("during the call: %v", during)
	talkAndHangUp(t, b, rec)

	after := waitEchoHealth(t, mon, "after the hangup", 10*time.Second, echoHealth.idle)
	waitFor(t, 5*time.Second, func() error {
		if got := socketFDs(t, pid); got != fds {
			return fmt.Errorf("%d sockets open in echo after the call, %d before", got, fds)
		}
		return nil
	})
	start := time.Now()
	after = waitEchoHealth(t, mon, "goroutines back", 45*time.Second, func(h echoHealth) bool { return h.idle() && h.runtime <= before.runtime })
	t.Logf("after the call: %v (goroutines back after %v more)", after, time.Since(start).Round(time.Millisecond))
}

// TestEchoRTPTimeout (rtp-timeout=3s): in an established call baresip is
// stopped (SIGSTOP) and sends nothing; the echo ends the call after its
// RTP timeout with a BYE through the node. baresip, running again
// (SIGCONT), reads that BYE and ends the call without being told to; the
// echo holds nothing afterwards.
func TestEchoRTPTimeout(t *testing.T) {
	p := startParleyd(t, "--plugin-dir", pluginDir(t))
	p.addUser("alice", "secret")
	p.addUser("monitor", "secret")
	addEcho(t, p, map[string]string{"rtp-timeout": "3s"})
	mon := newSipUA(t, p.sipAddr(), "monitor", "secret")
	waitEchoHealth(t, mon, "echo up", 20*time.Second, echoHealth.idle)

	b, _ := startEchoCaller(t, p, "alice")
	b.command("/dial sip:echo@" + domain)
	if err := b.waitOutput("Call established", 15*time.Second); err != nil {
		t.Fatal(err)
	}
	waitEchoHealth(t, mon, "in the call", 5*time.Second, func(h echoHealth) bool { return h.calls == 1 })
	time.Sleep(time.Second)
	pid := b.cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	t.Cleanup(resume) // before baresip's own cleanup (LIFO) quits it
	// The echo's timeout fires 3 s after the last packet and it sends BYE;
	// baresip cannot answer while stopped, so the call stays in the echo
	// until the BYE is answered or its own 10 s BYE timeout. Give the
	// timeout time to fire, then let baresip run.
	h := waitEchoHealth(t, mon, "timeout fired", 10*time.Second, func(h echoHealth) bool { return h.timeouts == 1 })
	t.Logf("RTP timeout fired %v after SIGSTOP: %v", time.Since(stopped).Round(time.Millisecond), h)
	if since := time.Since(stopped); since < 2*time.Second {
		t.Fatalf("the echo timed out %v after baresip stopped, before rtp-timeout", since)
	}
	time.Sleep(500 * time.Millisecond)
	resume()
	if err := b.waitOutput("terminated", 10*time.Second); err != nil {
		t.Fatalf("baresip did not end the call after the echo's BYE: %v", err)
	}
	out, _ := os.ReadFile(b.out)
	end := lastLines(string(out), "terminated", 1)
	t.Logf("baresip's end of the call: %s", end)
	// libre closes a session whose peer sent BYE with ECONNRESET.
	if !strings.Contains(end, "Connection reset by peer") {
		t.Fatalf("baresip ended the call, but not for a BYE it received:\n%s", end)
	}
	after := waitEchoHealth(t, mon, "after the timeout", 15*time.Second, echoHealth.idle)
	t.Logf("after: %v", after)
	b.quit()
	out, _ = os.ReadFile(b.out)
	if n := strings.Count(string(out), "Call established"); n != 1 {
		t.Fatalf("baresip established %d calls", n)
	}
}

// lastLines returns the lines of s around the last that contains text.
func lastLines(s, text string, around int) string {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], text) {
			lo, hi := max(0, i-around), min(len(lines), i+around+1)
			return strings.Join(lines[lo:hi], "\n")
		}
	}
	return ""
}

// appHolder is the index in nodes of the node running the singleton
// plugin app name (its app status shows the process up); nodes killed by
// the test are left out. An error while none or two do.
func appHolder(t *testing.T, nodes []*parleyd, name string) (int, error) {
	t.Helper()
	holder := -1
	for i, p := range nodes {
		if p.cmd == nil {
			continue
		}
		out, err := p.ctl("app", "list", "-o", "json")
		if err != nil {
			return -1, err
		}
		var list []api.AppStatus
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			return -1, fmt.Errorf("app list: %v in %q", err, out)
		}
		for _, a := range list {
			if a.Name == name && a.Process != nil && a.Process.Up {
				if holder >= 0 {
					return -1, fmt.Errorf("%s runs on n%d and n%d", name, holder+1, i+1)
				}
				holder = i
			}
		}
	}
	if holder < 0 {
		return -1, fmt.Errorf("%s runs on no node", name)
	}
	return holder, nil
}

// TestEchoSingletonCluster: the echo as a singleton on a three-node
// cluster; baresip registers on a node that does not hold the lease and
// calls sip:echo@localhost. The INVITE goes to the holder over the
// intra-cluster link, the holder proxies it to its echo over its SIP
// link, and the tone comes back: the FFT check as on one node. The
// health ping goes the same way, and shows nothing left after the call.
func TestEchoSingletonCluster(t *testing.T) {
	nodes := startCluster(t, 3, "--plugin-dir", pluginDir(t))
	nodes[0].addUser("alice", "secret")
	nodes[0].addUser("monitor", "secret")
	addEcho(t, nodes[0], map[string]string{"rtp-timeout": "10s"}, "--singleton")
	holder := -1
	waitFor(t, 30*time.Second, func() error {
		var err error
		holder, err = appHolder(t, nodes, "echo")
		return err
	})
	caller := nodes[(holder+1)%len(nodes)]
	t.Logf("echo runs on n%d; the caller registers on %s", holder+1, caller.sipAddr())
	mon := newSipUA(t, caller.sipAddr(), "monitor", "secret")
	waitEchoHealth(t, mon, "echo reachable from the caller's node", 30*time.Second, echoHealth.idle)

	b, rec := startEchoCaller(t, caller, "alice")
	b.command("/dial sip:echo@" + domain)
	if err := b.waitOutput("Call established", 15*time.Second); err != nil {
		t.Fatal(err)
	}
	during := waitEchoHealth(t, mon, "in the call", 5*time.Second, func(h echoHealth) bool { return h.calls == 1 })
	t.Logf("during the call: %v", during)
	talkAndHangUp(t, b, rec)
	after := waitEchoHealth(t, mon, "after the hangup", 10*time.Second, echoHealth.idle)
	t.Logf("after the call: %v", after)
	if h, err := appHolder(t, nodes, "echo"); err != nil || h != holder {
		t.Fatalf("echo moved during the call: n%d, %v", h+1, err)
	}
}

// talkAndHangUp lets baresip's tone go to the echo and back for 5 s,
// hangs up, and checks that the recording is the tone.
func talkAndHangUp(t *testing.T, b *baresip, rec string) {
	t.Helper()
	time.Sleep(5 * time.Second)
	b.command("/hangup")
	if err := b.waitOutput("terminated", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	b.quit()
	checkTone(t, rec)
}

// TestEchoLateOfferSipp: sipp calls the echo through the node with an
// INVITE without SDP (a late offer): the echo's 200 carries its offer
// and the ACK the answer; an ACK without an answer makes the echo hang
// up with a BYE through the node. Either way it holds nothing afterwards.
func TestEchoLateOfferSipp(t *testing.T) {
	p := startParleyd(t, "--plugin-dir", pluginDir(t))
	p.addUser("alice", "secret")
	p.addUser("monitor", "secret")
	addEcho(t, p, nil)
	mon := newSipUA(t, p.sipAddr(), "monitor", "secret")
	waitEchoHealth(t, mon, "echo up", 20*time.Second, echoHealth.idle)
	for _, scenario := range []string{"echo_late_offer.xml", "echo_late_offer_noanswer.xml"} {
		if _, err := runSipp(t, p.sipAddr(), sipp{Scenario: scenario, User: "alice", Password: "secret", Service: "echo"}); err != nil {
			t.Fatalf("%s: %v", scenario, err)
		}
		waitEchoHealth(t, mon, scenario+": call released", 10*time.Second, echoHealth.idle)
	}
}
