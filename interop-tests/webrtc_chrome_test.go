//go:build interop

package interop

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Headless Chromium (Debian's chromium) running JsSIP (from the npm
// registry, pinned in testdata/webrtc-chrome/package-lock.json and
// bundled with esbuild by the test) through parleyd and the WebRTC
// gateway to baresip. The page (testdata/webrtc-chrome/page.js) takes
// its commands from the test's HTTP server on 127.0.0.1 and reports
// back by POST: no DevTools protocol.
//
// Chromium never gathers loopback candidates by default; with
// --allow-loopback-in-peer-connection it gathers 127.0.0.1, so no
// network namespace is needed. It also gathers the machine's other
// addresses: the page strips them from its SDP, but Chromium still
// pairs them with the gateway's 127.0.0.1 candidate and sends checks
// from them; the gateway's muxed ICE port on a loopback ice-address
// ignores non-loopback sources (media.go), so no answer leaves the
// loopback range (checkLoopbackICE).

// startChromeNode is startWebRTCNode with the gateway's ICE on one muxed
// port on 127.0.0.1 (udp-port, the production shape).
func startChromeNode(t *testing.T) *webrtcNode {
	t.Helper()
	return startWebRTCNode(t, map[string]string{"udp-port": strconv.Itoa(freePort(t))})
}

var chromeDir = filepath.Join("testdata", "webrtc-chrome")

// jssipBundle returns the path of JsSIP bundled for the browser: npm ci
// of testdata/webrtc-chrome's lock file into a cache directory named by
// the lock file's hash, then esbuild (pinned there too) into one IIFE
// exposing window.JsSIP. Done once per lock file.
func jssipBundle(t *testing.T) string {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm not found (Debian's npm; scripts/install-test-deps.sh installs it): cannot fetch JsSIP")
	}
	lock, err := os.ReadFile(filepath.Join(chromeDir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile(filepath.Join(chromeDir, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(append(append([]byte{}, lock...), manifest...))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	parent := filepath.Join(cache, "parley-interop")
	final := filepath.Join(parent, "jssip-"+hex.EncodeToString(sum[:6]))
	bundle := filepath.Join(final, "jssip.js")
	if exists(bundle) {
		return bundle
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	work, err := os.MkdirTemp(parent, "build-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(work)
	for name, data := range map[string][]byte{"package.json": manifest, "package-lock.json": lock} {
		if err := os.WriteFile(filepath.Join(work, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(limit time.Duration, name string, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "CI=true", "npm_config_update_notifier=false")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		t.Logf("%s %s: %v", filepath.Base(name), args[0], time.Since(start).Round(time.Millisecond))
	}
	run(3*time.Minute, npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	run(time.Minute, filepath.Join(work, "node_modules", ".bin", "esbuild"), filepath.Join("node_modules", "jssip", "lib", "JsSIP.js"),
		"--bundle", "--format=iife", "--global-name=JsSIP", "--platform=browser", "--target=chrome100", "--outfile=jssip.js", "--log-level=warning")
	if err := os.Rename(work, final); err != nil && !exists(bundle) {
		t.Fatalf("JsSIP bundle: %v", err)
	}
	return bundle
}

// chromePage is one headless Chromium showing the JsSIP page.
type chromePage struct {
	t    *testing.T
	srv  *http.Server
	addr string
	cmd  *exec.Cmd
	done chan struct{}

	cmds   chan map[string]any
	events chan map[string]any

	mu    sync.Mutex
	freqs []pageFreq // the remote audio's dominant frequency, one a second
	over  bool
}

// pageFreq is one analyser reading of the page.
type pageFreq struct {
	at        time.Time
	hz, share float64
}

// startChrome serves the page on 127.0.0.1 and starts Chromium on it.
func startChrome(t *testing.T) *chromePage {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not found (Debian's chromium; scripts/install-test-deps.sh installs it)")
	}
	bundle := jssipBundle(t)
	p := &chromePage{t: t, cmds: make(chan map[string]any, 16), events: make(chan map[string]any, 256), done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(chromeDir, "page.html"))
	})
	mux.HandleFunc("GET /page.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(chromeDir, "page.js"))
	})
	mux.HandleFunc("GET /jssip.js", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, bundle) })
	mux.HandleFunc("GET /cmd", p.serveCmd)
	mux.HandleFunc("POST /event", p.serveEvent)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()

	dir := t.TempDir()
	logf, err := os.Create(filepath.Join(dir, "chromium.log"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	p.cmd = exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--disable-features=MediaRouter,OptimizationHints,Translate", "--no-default-browser-check", "--mute-audio",
		"--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required",
		"--allow-loopback-in-peer-connection", "--remote-debugging-port=0", // headless needs one or it exits
		"--user-data-dir="+filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0",
		"http://"+p.addr+"/")
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = childAttr()
	p.cmd.Cancel = func() error { return syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) }
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start chromium: %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		logf.Close()
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.mu.Lock()
		p.over = true
		p.mu.Unlock()
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = p.srv.Shutdown(sctx)
		scancel()
		if t.Failed() {
			t.Logf("chromium log (console and errors):\n%s", consoleLines(filepath.Join(dir, "chromium.log")))
		}
	})
	return p
}

// consoleLines is the part of Chromium's log worth showing.
func consoleLines(path string) string {
	data, _ := os.ReadFile(path)
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, "CONSOLE") || strings.Contains(l, "ERROR") {
			out = append(out, l)
		}
	}
	if len(out) > 60 {
		out = out[len(out)-60:]
	}
	return strings.Join(out, "\n")
}

// serveCmd hands the page its next command (long poll: 204 after 5 s).
func (p *chromePage) serveCmd(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	over := p.over
	p.mu.Unlock()
	if over {
		w.WriteHeader(http.StatusGone)
		return
	}
	select {
	case c := <-p.cmds:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(c)
	case <-time.After(5 * time.Second):
		w.WriteHeader(http.StatusNoContent)
	case <-r.Context().Done():
	}
}

// serveEvent takes one report of the page: analyser readings are kept
// apart, logs logged, the rest queued for wait.
func (p *chromePage) serveEvent(w http.ResponseWriter, r *http.Request) {
	var ev map[string]any
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
	switch ev["ev"] {
	case "freq":
		hz, _ := ev["hz"].(float64)
		share, _ := ev["share"].(float64)
		p.mu.Lock()
		p.freqs = append(p.freqs, pageFreq{at: time.Now(), hz: hz, share: share})
		p.mu.Unlock()
		return
	case "log", "error":
		p.t.Logf("page: %v", ev)
		if ev["ev"] == "log" {
			return
		}
	}
	select {
	case p.events <- ev:
	default:
		p.t.Logf("page: event dropped (queue full): %v", ev)
	}
}

// send queues a command for the page.
func (p *chromePage) send(cmd map[string]any) {
	select {
	case p.cmds <- cmd:
	case <-time.After(5 * time.Second):
		p.t.Fatalf("page: command %v not taken", cmd)
	}
}

// wait returns the page's next event named want; other events before it
// are logged and skipped, failed and ended ones fail the test unless
// wanted.
func (p *chromePage) wait(want string, limit time.Duration) map[string]any {
	p.t.Helper()
	deadline := time.After(limit)
	for {
		select {
		case ev := <-p.events:
			if ev["ev"] == want {
				return ev
			}
			p.t.Logf("page: %v (waiting for %s)", ev, want)
			switch ev["ev"] {
			case "failed", "registrationFailed", "error":
				p.t.Fatalf("page: %v while waiting for %s", ev, want)
			}
		case <-p.done:
			p.t.Fatalf("chromium exited while the test waited for %s", want)
		case <-deadline:
			p.t.Fatalf("page: no %s within %v", want, limit)
		}
	}
}

// register starts the page's JsSIP user agent as user over the node's
// WebSocket listener.
func (p *chromePage) register(n *webrtcNode, user string) {
	p.t.Helper()
	p.send(map[string]any{"op": "register", "ws": "ws://" + n.ws, "user": user, "password": "secret", "domain": domain})
	ev := p.wait("registered", 20*time.Second)
	p.t.Logf("JsSIP %v registered as %s in %v", ev["version"], user, ev["ua"])
}

// readings are the analyser's readings since from.
func (p *chromePage) readings(from time.Time) []pageFreq {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []pageFreq
	for _, f := range p.freqs {
		if !f.at.Before(from) {
			out = append(out, f)
		}
	}
	return out
}

// checkPageTone: the page's analyser saw hz (±10 Hz, most of the
// energy) in 3 or more readings since from.
func (p *chromePage) checkPageTone(from time.Time, hz float64) {
	p.t.Helper()
	rs := p.readings(from)
	n := 0
	for _, r := range rs {
		if math.Abs(r.hz-hz) <= 10 && r.share > 0.5 {
			n++
		}
	}
	p.t.Logf("page: %d readings, %d of %.0f Hz", len(rs), n, hz)
	if n < 3 {
		for i, r := range rs {
			p.t.Logf("page second %d: %.1f Hz (%.2f)", i, r.hz, r.share)
		}
		p.t.Fatalf("the page heard %d seconds of %.0f Hz, want at least 3", n, hz)
	}
}

// checkLoopbackICE asks the page for its ICE candidate pairs: the
// selected one and every one that succeeded must be between 127.0.0.1
// addresses (the gateway answers nothing else).
func (p *chromePage) checkLoopbackICE() {
	p.t.Helper()
	p.send(map[string]any{"op": "ice"})
	ev := p.wait("ice", 10*time.Second)
	pairs, _ := ev["pairs"].([]any)
	selected := 0
	for _, x := range pairs {
		pr, _ := x.(map[string]any)
		local, _ := pr["local"].(string)
		remote, _ := pr["remote"].(string)
		req, _ := pr["requests"].(float64)
		if pr["selected"] == true {
			selected++
		}
		// Chromium's checks from its other addresses to our 127.0.0.1
		// go unanswered: such a pair must not succeed.
		if (pr["state"] == "succeeded" || pr["selected"] == true) && (!strings.HasPrefix(local, "127.") || !strings.HasPrefix(remote, "127.")) {
			p.t.Errorf("page: ICE pair %s -> %s (%v, %v checks) leaves the loopback range", local, remote, pr["state"], req)
		}
	}
	if selected != 1 {
		p.t.Errorf("page: %d selected ICE pairs among %v, want 1", selected, pairs)
	}
	p.t.Logf("page: ICE pairs %v", pairs)
}

// TestWebRTCChromeCallsBaresip: carol (JsSIP in headless Chromium,
// registered over WS) calls bob (baresip over UDP) through parleyd and
// the gateway. The page's 440 Hz oscillator reaches bob's recording,
// bob's 880 Hz reaches the page's analyser (FFT both ways); carol hangs
// up, and the gateway holds nothing.
func TestWebRTCChromeCallsBaresip(t *testing.T) {
	n := startChromeNode(t)
	page := startChrome(t)
	bob, rec := startBaresipBob(t, n)
	page.register(n, "carol")
	start := time.Now()
	page.send(map[string]any{"op": "call", "target": "sip:bob@" + domain})
	page.wait("confirmed", 20*time.Second)
	t.Logf("call established after %v", time.Since(start).Round(time.Millisecond))
	if err := bob.waitOutput("Call established", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	n.waitHealth(t, "in the call", 5*time.Second, func(h gatewayHealth) bool { return h.calls == 1 })
	time.Sleep(webrtcTalk)
	page.checkLoopbackICE()
	during, _ := n.ping()
	t.Logf("during the call: %v", during)
	pageDigitsToBaresip(t, n, page, bob)
	page.send(map[string]any{"op": "hangup"})
	page.wait("ended", 10*time.Second)
	if err := bob.waitOutput("terminated", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	bob.quit()
	page.checkPageTone(start, 880)
	checkToneHz(t, "baresip", rec, 440)
	after := n.waitHealth(t, "after the hangup", 10*time.Second, gatewayHealth.idle)
	t.Logf("after the call: %v", after)
}

// pageDigitsToBaresip: the page's DTMF reaches baresip as RFC 4733
// events (baresip prints "received event: 'X' (end=1)"): "159#" sent by
// Chromium's RTCDTMFSender (JsSIP transportType RFC2833, relayed by the
// gateway), "27" as SIP INFO application/dtmf-relay (JsSIP's default)
// and "3" as application/dtmf, both turned into RFC 4733 by the gateway.
func pageDigitsToBaresip(t *testing.T, n *webrtcNode, page *chromePage, bob *baresip) {
	t.Helper()
	page.send(map[string]any{"op": "dtmf", "tones": "159#", "transport": "RFC2833"})
	page.wait("dtmf-sent", 5*time.Second)
	for _, d := range "159#" {
		if err := bob.waitOutput(fmt.Sprintf("received event: '%c' (end=1)", d), 5*time.Second); err != nil {
			t.Fatalf("RFC2833 from the page: %v", err)
		}
	}
	page.send(map[string]any{"op": "dtmf", "tones": "27", "transport": "INFO"})
	page.wait("dtmf-sent", 5*time.Second)
	page.send(map[string]any{"op": "info", "contentType": "application/dtmf", "body": "3"})
	page.wait("info-sent", 5*time.Second)
	for _, d := range "273" {
		if err := bob.waitOutput(fmt.Sprintf("received event: '%c' (end=1)", d), 5*time.Second); err != nil {
			t.Fatalf("INFO from the page: %v", err)
		}
	}
	h := n.waitHealth(t, "digits counted", 5*time.Second, func(h gatewayHealth) bool {
		return len(h.perCall) == 1 && callCount(h.perCall[0], "dtmf-to-phone") == 3
	})
	t.Logf("after the digits: %v", h.perCall)
}

// baresipDigitsToPage: baresip's "/sndcode 48*" goes out as RFC 4733
// events; the gateway relays them and sends each digit to the page as
// SIP INFO application/dtmf-relay, which JsSIP reports as newDTMF.
func baresipDigitsToPage(t *testing.T, page *chromePage, bob *baresip) {
	t.Helper()
	bob.command("/sndcode 48*")
	for _, d := range []string{"4", "8", "*"} {
		ev := page.wait("dtmf", 5*time.Second)
		if ev["tone"] != d {
			t.Fatalf("page: digit %v, want %s", ev["tone"], d)
		}
		t.Logf("page: digit %v (%v ms)", ev["tone"], ev["duration"])
	}
}

// TestWebRTCBaresipCallsChrome: bob (baresip, plain RTP) calls carol,
// whose binding is the page's WebSocket flow; the gateway offers the
// page WebRTC, JsSIP answers. FFT both ways; bob hangs up.
func TestWebRTCBaresipCallsChrome(t *testing.T) {
	n := startChromeNode(t)
	page := startChrome(t)
	bob, rec := startBaresipBob(t, n)
	page.register(n, "carol")
	start := time.Now()
	bob.command("/dial sip:carol@" + domain)
	ev := page.wait("incoming", 15*time.Second)
	t.Logf("page: incoming call from %v", ev["from"])
	page.wait("confirmed", 15*time.Second)
	if err := bob.waitOutput("Call established", 15*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("call established after %v", time.Since(start).Round(time.Millisecond))
	n.waitHealth(t, "in the call", 5*time.Second, func(h gatewayHealth) bool { return h.calls == 1 })
	time.Sleep(webrtcTalk)
	page.checkLoopbackICE()
	during, _ := n.ping()
	t.Logf("during the call: %v", during)
	baresipDigitsToPage(t, page, bob)
	bob.command("/hangup")
	if ev := page.wait("ended", 10*time.Second); ev["originator"] != "remote" {
		t.Errorf("page: the call ended by %v, want remote", ev["originator"])
	}
	bob.quit()
	page.checkPageTone(start, 880)
	checkToneHz(t, "baresip", rec, 440)
	after := n.waitHealth(t, "after the hangup", 10*time.Second, gatewayHealth.idle)
	t.Logf("after the call: %v", after)
}

// TestWebRTCChromeLeak: 20 short calls (bounded: 20 calls, 90 s) from
// the page to baresip, each hung up by the page after half a second of
// audio; afterwards the gateway's health shows 20 calls bridged and no
// call, media socket or bridge goroutine left.
func TestWebRTCChromeLeak(t *testing.T) {
	const calls = 20
	n := startChromeNode(t)
	page := startChrome(t)
	bob, _ := startBaresipBob(t, n)
	page.register(n, "carol")
	start := time.Now()
	deadline := start.Add(90 * time.Second)
	for i := 0; i < calls; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls in %v", i, time.Since(start))
		}
		page.send(map[string]any{"op": "call", "target": "sip:bob@" + domain})
		page.wait("confirmed", 15*time.Second)
		time.Sleep(500 * time.Millisecond)
		page.send(map[string]any{"op": "hangup"})
		page.wait("ended", 10*time.Second)
	}
	t.Logf("%d calls in %v", calls, time.Since(start).Round(time.Millisecond))
	after := n.waitHealth(t, "after the calls", 15*time.Second, func(h gatewayHealth) bool { return h.idle() && h.total == calls })
	t.Logf("after %d calls: %v", calls, after)
	data, _ := os.ReadFile(bob.out)
	if got := strings.Count(string(data), "Call established"); got != calls {
		t.Errorf("baresip established %d calls, want %d", got, calls)
	}
}
