//go:build interop

package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/gateways/webrtc"
)

// The WebRTC gateway (bin/parley-webrtc) as a plugin of bin/parleyd,
// between aiortc (Debian's python3-aiortc: a real, non-browser WebRTC
// peer) and baresip. The aiortc user registers over the node's
// WebSocket listener with a small sipgo user agent of the test (the SIP
// a browser library would send: Contact ...;transport=ws); the SDP is
// aiortc's. Media is checked by FFT both ways.

// webrtcNode is parleyd with a WebSocket listener and the gateway.
type webrtcNode struct {
	p   *parleyd
	ws  string // host:port of the WebSocket listener
	mon *sipUA // sends the health pings
}

// startWebRTCNode starts parleyd (UDP, TCP and WS on loopback) with the
// users carol (the aiortc side), bob (baresip) and monitor, and the
// gateway added through parleyctl with ICE on 127.0.0.1.
func startWebRTCNode(t *testing.T, settings map[string]string) *webrtcNode {
	t.Helper()
	dir := pluginDir(t)
	if err := copyFile(filepath.Join(pluginBinDir, "parley-webrtc"), filepath.Join(dir, "parley-webrtc")); err != nil {
		t.Fatal(err)
	}
	p := newParleyd(t, "--plugin-dir", dir)
	wsPort := freePort(t)
	p.extra = append(p.extra, "--sip-listen", fmt.Sprintf("ws://127.0.0.1:%d", wsPort)) // repeated flags add listeners
	p.start()
	for _, u := range []string{"carol", "bob", "monitor"} {
		p.addUser(u, "secret")
	}
	ports := freePorts(t, 1, 100)[0]
	args := []string{"app", "add", "webrtc", "--kind", "plugin", "--command", "parley-webrtc", "--methods", "INVITE,OPTIONS",
		"--setting", "udp-port=0", "--setting", "ice-address=127.0.0.1",
		"--setting", fmt.Sprintf("rtp-ports=%d-%d", ports, ports+99), "--setting", "rtp-timeout=10s"}
	for k, v := range settings {
		args = append(args, "--setting", k+"="+v)
	}
	if _, err := p.ctl(args...); err != nil {
		t.Fatal(err)
	}
	n := &webrtcNode{p: p, ws: fmt.Sprintf("127.0.0.1:%d", wsPort), mon: newSipUA(t, p.sipAddr(), "monitor", "secret")}
	n.waitHealth(t, "gateway up", 20*time.Second, gatewayHealth.idle)
	return n
}

// gatewayHealth is the gateway's answer to its health ping (an OPTIONS
// to sip:webrtc-gateway@localhost, proxied by its chain entry to its
// user agent).
type gatewayHealth struct {
	calls, sockets, goroutines, total int
	packets                           string
	perCall                           []string
}

func (h gatewayHealth) idle() bool { return h.calls == 0 && h.sockets == 0 && h.goroutines == 0 }

func (h gatewayHealth) String() string {
	return fmt.Sprintf("calls %d (total %d), media sockets %d, bridge goroutines %d, packets %s, calls %q",
		h.calls, h.total, h.sockets, h.goroutines, h.packets, h.perCall)
}

func (n *webrtcNode) ping() (gatewayHealth, error) {
	res, err := n.mon.send(&outReq{Method: "OPTIONS", RURI: "sip:webrtc-gateway@" + domain,
		From: fmt.Sprintf("<%s>;tag=%s", n.mon.aor(), randHex(4)), To: "<sip:webrtc-gateway@" + domain + ">",
		CallID: "ping-" + randHex(8) + "@" + n.mon.local, CSeq: 1})
	if err != nil {
		return gatewayHealth{}, err
	}
	if res.Code != 200 || res.Header(webrtc.HeaderCalls) == "" {
		return gatewayHealth{}, fmt.Errorf("health ping: %d %s", res.Code, res.Reason)
	}
	num := func(h string) int { v, _ := strconv.Atoi(res.Header(h)); return v }
	return gatewayHealth{calls: num(webrtc.HeaderCalls), sockets: num(webrtc.HeaderSockets), goroutines: num(webrtc.HeaderGoroutines),
		total: num(webrtc.HeaderCallsTotal), packets: res.Header(webrtc.HeaderPackets), perCall: res.Headers(webrtc.HeaderCall)}, nil
}

// waitHealth pings until ok accepts the answer.
func (n *webrtcNode) waitHealth(t *testing.T, what string, limit time.Duration, ok func(gatewayHealth) bool) gatewayHealth {
	t.Helper()
	var h gatewayHealth
	waitFor(t, limit, func() error {
		got, err := n.ping()
		if err != nil {
			return err
		}
		if h = got; !ok(h) {
			return fmt.Errorf("%s: gateway health: %v", what, h)
		}
		return nil
	})
	return h
}

// aiortcPeer is testdata/webrtc/peer.py under /usr/bin/python3: it
// sends a sine and records what it receives (see the script).
type aiortcPeer struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	msgs  chan map[string]any
	rec   string
	done  chan struct{}
}

func startAiortc(t *testing.T, toneHz int) *aiortcPeer {
	t.Helper()
	dir := t.TempDir()
	p := &aiortcPeer{t: t, rec: filepath.Join(dir, "received.wav"), msgs: make(chan map[string]any, 16), done: make(chan struct{})}
	script := filepath.Join(repoRoot, "interop-tests", "testdata", "webrtc", "peer.py")
	p.cmd = exec.Command("/usr/bin/python3", script, "--tone", strconv.Itoa(toneHz), "--record", p.rec, "--max-seconds", "90")
	stderr, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	p.cmd.SysProcAttr = childAttr()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("aiortc: %v (python3-aiortc: scripts/install-test-deps.sh)", err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Logf("aiortc: %s", sc.Text())
				continue
			}
			if m["op"] == "state" {
				t.Logf("aiortc: connection %v", m["state"])
				continue
			}
			p.msgs <- m
		}
		_ = p.cmd.Wait()
		stderr.Close()
	}()
	t.Cleanup(func() {
		p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			log, _ := os.ReadFile(stderr.Name())
			t.Logf("aiortc stderr:\n%s", log)
		}
	})
	return p
}

// do sends one command and waits for the reply op want.
func (p *aiortcPeer) do(cmd map[string]any, want string) map[string]any {
	p.t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		p.t.Fatalf("aiortc %v: %v", cmd["op"], err)
	}
	select {
	case m, ok := <-p.msgs:
		if !ok || m["op"] != want {
			p.t.Fatalf("aiortc %v: got %v, want %s", cmd["op"], m, want)
		}
		return m
	case <-time.After(20 * time.Second):
		p.t.Fatalf("aiortc %v: no %s within 20 s", cmd["op"], want)
	}
	return nil
}

// stop ends the peer and checks its recording: tone Hz for 3 s or more.
func (p *aiortcPeer) stopAndCheck(hz float64) {
	p.t.Helper()
	m := p.do(map[string]any{"op": "stop"}, "stopped")
	a, err := readWAV(p.rec)
	if err != nil {
		p.t.Fatal(err)
	}
	n := a.toneSeconds(hz, 10)
	p.t.Logf("aiortc recorded %.1f s (it says %v), %d s of %.0f Hz", a.seconds(), m["seconds"], n, hz)
	if n < 3 {
		for from := 0; from+a.rate <= len(a.samples); from += a.rate {
			f, share := a.dominantFrequency(from, a.rate)
			p.t.Logf("aiortc second %d: %.1f Hz (%.2f)", from/a.rate, f, share)
		}
		p.t.Fatalf("aiortc received %d seconds of %.0f Hz, want at least 3", n, hz)
	}
}

// wsBrowser is the SIP side of the aiortc user: a sipgo user agent
// registered over the node's WebSocket listener with a Contact as
// JsSIP writes it (an .invalid host, transport=ws), so the node reaches
// it only down that flow.
type wsBrowser struct {
	t      *testing.T
	user   string
	ws     string
	ua     *sipgo.UserAgent
	client *sipgo.Client
	out    *sipgo.DialogClientCache
	in     *sipgo.DialogServerCache

	// answer turns an incoming offer into the answer (set by the test).
	answer func(offer []byte) []byte

	mu      sync.Mutex
	outCall *sipgo.DialogClientSession
	inCall  *sipgo.DialogServerSession
	byes    chan struct{}
	invites chan struct{}
}

func startWSBrowser(t *testing.T, n *webrtcNode, user string) *wsBrowser {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("parley-interop-ws"), sipgo.WithUserAgentHostname(randHex(6)+".invalid"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: randHex(6) + ".invalid",
		UriParams: sip.HeaderParams{{K: "transport", V: "ws"}}}}
	b := &wsBrowser{t: t, user: user, ws: n.ws, ua: ua, client: client,
		out: sipgo.NewDialogClientCache(client, contact), in: sipgo.NewDialogServerCache(client, contact),
		byes: make(chan struct{}, 4), invites: make(chan struct{}, 4)}
	srv.OnInvite(b.onInvite)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { _ = b.in.ReadAck(req, tx) })
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if b.out.ReadBye(req, tx) != nil && b.in.ReadBye(req, tx) != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
			return
		}
		b.byes <- struct{}{}
	})

	reg := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: domain, UriParams: sip.HeaderParams{{K: "transport", V: "ws"}}})
	aor := sip.Uri{Scheme: "sip", User: user, Host: domain}
	reg.AppendHeader(&sip.FromHeader{Address: aor, Params: tagParams()})
	reg.AppendHeader(&sip.ToHeader{Address: aor})
	reg.AppendHeader(sip.HeaderClone(&contact))
	reg.AppendHeader(sip.NewHeader("Expires", "600"))
	reg.SetDestination(n.ws)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := client.Do(ctx, reg)
	if err == nil && res.StatusCode == 401 {
		res, err = client.DoDigestAuth(ctx, reg, res, sipgo.DigestAuth{Username: user, Password: "secret"})
	}
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("%s: REGISTER over WS: %v %v", user, res, err)
	}
	return b
}

func tagParams() sip.HeaderParams {
	p := sip.NewParams()
	p.Add("tag", randHex(6))
	return p
}

// onInvite answers an incoming call (a new one, or a re-INVITE of it)
// with what b.answer makes of the offer.
func (b *wsBrowser) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		return
	}
	dlg, err := b.in.ReadInvite(req, tx)
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	_ = dlg.Respond(180, "Ringing", nil)
	if b.answer == nil {
		_ = dlg.Respond(480, "Temporarily Unavailable", nil)
		return
	}
	if err := dlg.RespondSDP(b.answer(req.Body())); err != nil {
		b.t.Logf("%s: answer: %v", b.user, err)
		return
	}
	b.mu.Lock()
	b.inCall = dlg
	b.mu.Unlock()
	b.invites <- struct{}{}
}

// call sends an INVITE with offer to ruri over the WebSocket and returns
// the answer's body (after the ACK).
func (b *wsBrowser) call(ruri string, offer []byte) []byte {
	b.t.Helper()
	var u sip.Uri
	if err := sip.ParseUri(ruri, &u); err != nil {
		b.t.Fatal(err)
	}
	req := sip.NewRequest(sip.INVITE, u)
	req.SetTransport("WS")
	req.SetDestination(b.ws)
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: b.user, Host: domain}, Params: tagParams()})
	req.AppendHeader(&sip.ToHeader{Address: u, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := b.out.WriteInvite(ctx, req)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := s.WaitAnswer(ctx, sipgo.AnswerOptions{Username: b.user, Password: "secret"}); err != nil {
		b.t.Fatalf("%s calls %s: %v", b.user, ruri, err)
	}
	if err := s.Ack(ctx); err != nil {
		b.t.Fatal(err)
	}
	b.mu.Lock()
	b.outCall = s
	b.mu.Unlock()
	return s.InviteResponse.Body()
}

// hangup sends BYE in the call it placed or took.
func (b *wsBrowser) hangup() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b.mu.Lock()
	out, in := b.outCall, b.inCall
	b.mu.Unlock()
	var err error
	switch {
	case out != nil:
		err = out.Bye(ctx)
	case in != nil:
		err = in.Bye(ctx)
	default:
		b.t.Fatal("no call to hang up")
	}
	if err != nil {
		b.t.Fatalf("%s: BYE: %v", b.user, err)
	}
}

// waitBye waits for a BYE from the other side.
func (b *wsBrowser) waitBye(limit time.Duration) {
	b.t.Helper()
	select {
	case <-b.byes:
	case <-time.After(limit):
		b.t.Fatalf("%s: no BYE within %v", b.user, limit)
	}
}

// startBaresipBob starts baresip as bob (registered over UDP, answering
// by itself, sending an 880 Hz sine and recording).
func startBaresipBob(t *testing.T, n *webrtcNode) (*baresip, string) {
	t.Helper()
	b, rec := startBaresipMedia(t, mediaOptions{user: "bob", toneHz: 880,
		account: fmt.Sprintf("<sip:bob@%s>;auth_pass=secret;outbound=\"sip:%s;transport=udp\";regint=600;answermode=auto", domain, n.p.sipAddr())})
	if err := b.waitOutput("registered successfully", 15*time.Second); err != nil {
		t.Fatalf("baresip bob did not register: %v", err)
	}
	return b, rec
}

// checkToneHz is checkTone for any frequency: rec holds hz (±10 Hz) for
// 3 s or more.
func checkToneHz(t *testing.T, who, rec string, hz float64) {
	t.Helper()
	a := receivedAudio(t, rec)
	n := a.toneSeconds(hz, 10)
	t.Logf("%s recorded %.1f s at %d Hz, %d s of %.0f Hz", who, a.seconds(), a.rate, n, hz)
	if n < 3 {
		for from := 0; from+a.rate <= len(a.samples); from += a.rate {
			f, share := a.dominantFrequency(from, a.rate)
			t.Logf("%s second %d: %.1f Hz (%.2f)", who, from/a.rate, f, share)
		}
		t.Fatalf("%s received %d seconds of %.0f Hz, want at least 3", who, n, hz)
	}
}

const webrtcTalk = 5 * time.Second

// TestWebRTCAiortcCallsBaresip: carol (aiortc over WS) calls bob
// (baresip over UDP); the node hands the WebRTC offer to the gateway,
// which calls bob with plain RTP and bridges. aiortc's 440 Hz reaches
// bob, bob's 880 Hz reaches aiortc (FFT both ways). Hung up by carol,
// then, in a second call, by bob; afterwards the gateway holds no call,
// media socket or bridge goroutine (its health ping says so).
func TestWebRTCAiortcCallsBaresip(t *testing.T) {
	n := startWebRTCNode(t, nil)
	carol := startWSBrowser(t, n, "carol")
	for _, by := range []string{"browser", "phone"} {
		t.Run("hangup-by-"+by, func(t *testing.T) {
			carol.t = t
			bob, rec := startBaresipBob(t, n)
			peer := startAiortc(t, 440)
			offer := peer.do(map[string]any{"op": "offer"}, "offer")["sdp"].(string)
			start := time.Now()
			answer := carol.call("sip:bob@"+domain, []byte(offer))
			t.Logf("call established after %v", time.Since(start).Round(time.Millisecond))
			peer.do(map[string]any{"op": "answer", "sdp": string(answer)}, "ok")
			if err := bob.waitOutput("Call established", 10*time.Second); err != nil {
				t.Fatal(err)
			}
			during := n.waitHealth(t, "in the call", 5*time.Second, func(h gatewayHealth) bool { return h.calls == 1 })
			time.Sleep(webrtcTalk)
			during, _ = n.ping()
			t.Logf("during the call: %v", during)
			if by == "browser" {
				carol.hangup()
				if err := bob.waitOutput("terminated", 10*time.Second); err != nil {
					t.Fatal(err)
				}
			} else {
				bob.command("/hangup")
				carol.waitBye(10 * time.Second)
			}
			bob.quit()
			peer.stopAndCheck(880)
			checkToneHz(t, "baresip", rec, 440)
			after := n.waitHealth(t, "after the hangup", 10*time.Second, gatewayHealth.idle)
			t.Logf("after the call: %v", after)
		})
	}
}

// TestWebRTCBaresipCallsAiortc: bob (baresip, plain RTP) calls carol,
// whose chosen binding is a WebSocket flow; the node hands the plain
// offer to the gateway, which offers WebRTC (ICE, DTLS, SAVPF) to carol
// through the node, answers bob with the codec aiortc took, and
// bridges. bob holds (a sendonly re-INVITE, answered recvonly by the
// gateway, which stops relaying toward bob) and resumes. FFT: bob's
// recording holds aiortc's 440 Hz for 3 s or more (before the hold:
// baresip's sndfile stops recording at the re-INVITE's stream update),
// aiortc's holds 880 Hz, its last 3 s too (after the resume); the
// packets toward bob after the resume are only counted. bob hangs up,
// and the gateway holds nothing.
func TestWebRTCBaresipCallsAiortc(t *testing.T) {
	n := startWebRTCNode(t, nil)
	carol := startWSBrowser(t, n, "carol")
	bob, rec := startBaresipBob(t, n)
	peer := startAiortc(t, 440)
	carol.answer = func(offer []byte) []byte {
		if !strings.Contains(string(offer), "UDP/TLS/RTP/SAVPF") || !strings.Contains(string(offer), "a=fingerprint:") {
			t.Errorf("carol was offered no WebRTC:\n%s", offer)
		}
		return []byte(peer.do(map[string]any{"op": "accept", "sdp": string(offer)}, "answer")["sdp"].(string))
	}
	start := time.Now()
	bob.command("/dial sip:carol@" + domain)
	if err := bob.waitOutput("Call established", 15*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("call established after %v", time.Since(start).Round(time.Millisecond))
	n.waitHealth(t, "in the call", 5*time.Second, func(h gatewayHealth) bool { return h.calls == 1 })
	time.Sleep(5 * time.Second)
	bob.command("/hold")
	held := n.waitHealth(t, "bob holds", 5*time.Second, func(h gatewayHealth) bool {
		return len(h.perCall) == 1 && strings.Contains(h.perCall[0], "phone=sendonly")
	})
	t.Logf("on hold: %v", held)
	time.Sleep(time.Second)
	bob.command("/resume")
	n.waitHealth(t, "bob resumes", 5*time.Second, func(h gatewayHealth) bool {
		return len(h.perCall) == 1 && strings.Contains(h.perCall[0], "phone=sendrecv")
	})
	resumed, _ := n.ping()
	time.Sleep(4 * time.Second)
	during, _ := n.ping()
	t.Logf("after the resume: %v", during)
	if len(resumed.perCall) != 1 || len(during.perCall) != 1 || callCount(during.perCall[0], "to-phone") < callCount(resumed.perCall[0], "to-phone")+100 {
		t.Errorf("less than 2 s of packets toward bob after the resume: %q then %q", resumed.perCall, during.perCall)
	}
	bob.command("/hangup")
	carol.waitBye(10 * time.Second)
	bob.quit()
	peer.stopAndCheck(880)
	checkToneHz(t, "baresip", rec, 440)
	checkToneAtEnd(t, "aiortc", peer.rec, 880)
	after := n.waitHealth(t, "after the hangup", 10*time.Second, gatewayHealth.idle)
	t.Logf("after the call: %v", after)
}

// callCount reads counter name from an X-WebRTC-Call value.
func callCount(v, name string) int {
	for _, f := range strings.Split(v, ";") {
		if k, val, ok := strings.Cut(f, "="); ok && k == name {
			n, _ := strconv.Atoi(val)
			return n
		}
	}
	return -1
}

// checkToneAtEnd: the last 3 whole seconds of the WAV file path are hz
// (±10 Hz): the audio after a resume.
func checkToneAtEnd(t *testing.T, who, path string, hz float64) {
	t.Helper()
	a, err := readWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	secs := len(a.samples) / a.rate
	if secs < 4 {
		t.Fatalf("%s recorded %.1f s", who, a.seconds())
	}
	end := len(a.samples) - a.rate/2 // the last half second may hold the hangup
	for i := 1; i <= 3; i++ {
		from := end - i*a.rate
		if f, share := a.dominantFrequency(from, a.rate); math.Abs(f-hz) > 10 || share <= 0.5 {
			t.Fatalf("%s: %d s before the end: %.1f Hz (%.2f), want %.0f Hz after the resume", who, i, f, share, hz)
		}
	}
}
