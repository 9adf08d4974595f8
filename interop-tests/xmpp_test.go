//go:build interop

package interop

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// prosody is a real Prosody started by the test on 127.0.0.1 with a
// VirtualHost for XMPP users and a Component for the gateway; the one
// Prosody set-up of the XMPP interop tests (xmpp_component_test.go too).
type prosody struct {
	dir              string
	c2s, comp        int
	secretFile, host string
}

// startProsody runs prosody -F with everything in a temp dir; users are
// localpart -> password accounts on host. As root it starts because
// mod_posix (which refuses root) is disabled.
func startProsody(t *testing.T, host, component, secret string, users map[string]string) *prosody {
	t.Helper()
	for _, bin := range []string{"/usr/bin/prosody", "/usr/bin/python3"} {
		if _, err := os.Stat(bin); err != nil {
			t.Skipf("%s: %v", bin, err)
		}
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import slixmpp").Run(); err != nil {
		t.Skipf("slixmpp: %v", err)
	}
	ports := freePorts(t, 2, 1)
	p := &prosody{dir: t.TempDir(), c2s: ports[0], comp: ports[1], host: host}
	for _, d := range []string{"data", "certs"} {
		if err := os.MkdirAll(filepath.Join(p.dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	cfg := fmt.Sprintf(`daemonize = false
pidfile = %[1]q
data_path = %[2]q
certificates = %[3]q
log = { { levels = { min = "info" }, to = "console" } }
interfaces = { "127.0.0.1" }
c2s_ports = { %[4]d }
component_ports = { %[5]d }
component_interfaces = { "127.0.0.1" }
s2s_ports = { }
http_ports = { }
https_ports = { }
modules_enabled = { "roster", "saslauth", "disco", "ping" }
modules_disabled = { "s2s", "posix", "offline" }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
VirtualHost %[6]q
Component %[7]q
  component_secret = %[8]q
  component_conflict_resolve = "kick_old"
`, filepath.Join(p.dir, "prosody.pid"), filepath.Join(p.dir, "data"), filepath.Join(p.dir, "certs"), p.c2s, p.comp, host, component, secret)
	cfgPath := filepath.Join(p.dir, "prosody.cfg.lua")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// Accounts as internal_plain stores them: prosody's datamanager
	// encodes every non-alphanumeric byte of a name as %xx.
	acct := filepath.Join(p.dir, "data", prosodyEncode(host), "accounts")
	if err := os.MkdirAll(acct, 0o700); err != nil {
		t.Fatal(err)
	}
	for user, pw := range users {
		if err := os.WriteFile(filepath.Join(acct, prosodyEncode(user)+".dat"), []byte(fmt.Sprintf("return { [\"password\"] = %q; };", pw)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p.secretFile = filepath.Join(p.dir, "component.secret")
	if err := os.WriteFile(p.secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(p.dir, "prosody.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/prosody", "-F", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			t.Logf("prosody log (tail):\n%s", tailFile(logPath, 16<<10))
		}
	})
	waitTCP(t, p.comp, 10*time.Second)
	waitTCP(t, p.c2s, 10*time.Second)
	return p
}

func prosodyEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	return b.String()
}

func waitTCP(t *testing.T, port int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if c, err := dialTCP(port); err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("port %d never opened", port)
}

// xmppEvent is one line the client script prints.
type xmppEvent struct {
	Ev         string     `json:"ev"`
	From       string     `json:"frm"`
	Type       string     `json:"type"`
	Body       string     `json:"body"`
	Subject    string     `json:"subject"`
	Thread     string     `json:"thread"`
	Lang       string     `json:"lang"`
	ID         string     `json:"id"`
	Cond       string     `json:"cond"`
	EType      string     `json:"etype"`
	Identities [][]string `json:"identities"`
	Features   []string   `json:"features"`
	OK         *bool      `json:"ok"`
	Err        string     `json:"err"`
	Name       string     `json:"name"`
	To         string     `json:"to"`
	Show       string     `json:"show"`
	Status     string     `json:"status"`
	Version    string     `json:"version"`
	ChatState  string     `json:"chat_state"`
}

// xmppUser is a slixmpp client (testdata/xmpp/client.py).
type xmppUser struct {
	t      *testing.T
	jid    string
	stdin  io.WriteCloser
	events chan xmppEvent
}

func startXMPPUser(t *testing.T, p *prosody, jid, password string) *xmppUser {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", filepath.Join(repoRoot, "interop-tests", "testdata", "xmpp", "client.py"),
		jid, password, "127.0.0.1", fmt.Sprint(p.c2s))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderrPath := filepath.Join(p.dir, "client-"+prosodyEncode(jid)+".log")
	stderr, _ := os.Create(stderrPath)
	cmd.Stderr = stderr
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	u := &xmppUser{t: t, jid: jid, stdin: stdin, events: make(chan xmppEvent, 64)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev xmppEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err == nil {
				u.events <- ev
			}
		}
		close(u.events)
	}()
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		stderr.Close()
		if t.Failed() {
			t.Logf("%s client stderr:\n%s", jid, tailFile(stderrPath, 4<<10))
		}
	})
	if _, err := u.wait("ready", 20*time.Second, func(e xmppEvent) bool { return e.Ev == "ready" }); err != nil {
		t.Fatal(err)
	}
	return u
}

func (u *xmppUser) cmd(c map[string]string) {
	u.t.Helper()
	b, _ := json.Marshal(c)
	if _, err := u.stdin.Write(append(b, '\n')); err != nil {
		u.t.Fatalf("%s: %v", u.jid, err)
	}
}

// wait takes events until ok, within limit.
func (u *xmppUser) wait(what string, limit time.Duration, ok func(xmppEvent) bool) (xmppEvent, error) {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	var seen []string
	for {
		select {
		case e, open := <-u.events:
			if !open {
				return xmppEvent{}, fmt.Errorf("%s: client exited waiting for %s (saw %v)", u.jid, what, seen)
			}
			if ok(e) {
				return e, nil
			}
			seen = append(seen, fmt.Sprintf("%+v", e))
		case <-timer.C:
			return xmppEvent{}, fmt.Errorf("%s: no %s within %v (saw %v)", u.jid, what, limit, seen)
		}
	}
}

func (u *xmppUser) mustWait(what string, limit time.Duration, ok func(xmppEvent) bool) xmppEvent {
	u.t.Helper()
	e, err := u.wait(what, limit, ok)
	if err != nil {
		u.t.Fatal(err)
	}
	return e
}

// sipMessage sends a MESSAGE from ua to ruri and returns the final status.
func sipMessage(t *testing.T, ua *sipUA, ruri, callID, body string, extra ...string) int {
	t.Helper()
	res, err := ua.send(&outReq{Method: "MESSAGE", RURI: ruri, From: fmt.Sprintf("<%s>;tag=%s", ua.aor(), randHex(4)),
		To: "<" + ruri + ">", CallID: callID, CSeq: 1, Headers: extra, ContentType: "text/plain;charset=UTF-8", Body: body})
	if err != nil {
		t.Fatalf("MESSAGE %s: %v", ruri, err)
	}
	return res.Code
}

// waitSIPRequest waits until ua has received a request matching ok.
func waitSIPRequest(ua *sipUA, limit time.Duration, ok func(*sipMsg) bool) (*sipMsg, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		ua.mu.Lock()
		for i, m := range ua.stray {
			if ok(m) {
				ua.stray = append(ua.stray[:i:i], ua.stray[i+1:]...)
				ua.mu.Unlock()
				return m, nil
			}
		}
		ua.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	ua.mu.Lock()
	defer ua.mu.Unlock()
	var got []string
	for _, m := range ua.stray {
		got = append(got, m.Raw)
	}
	return nil, fmt.Errorf("%s: no such request within %v; got:\n%s", ua.user, limit, strings.Join(got, "\n-----\n"))
}

// startXMPPGateway starts Prosody (users on xmpp.test, the component
// "localhost"), parleyd with bin/parley-xmpp added through parleyctl as a
// singleton claiming *@xmpp.test, the users alice (registered, a raw SIP
// UA) and bob (never registered).
func startXMPPGateway(t *testing.T, users map[string]string) (*prosody, *parleyd, *sipUA) {
	t.Helper()
	pros := startProsody(t, "xmpp.test", domain, "interop-component-secret", users)
	dir := t.TempDir()
	if err := copyFile(filepath.Join(pluginBinDir, "parley-xmpp"), filepath.Join(dir, "parley-xmpp")); err != nil {
		t.Fatal(err)
	}
	p := startParleyd(t, "--plugin-dir", dir)
	p.addUser("alice", "secret")
	p.addUser("bob", "secret") // never registers
	alice := newSipUA(t, p.sipAddr(), "alice", "secret")
	if res, err := alice.register(300); err != nil || res.Code != 200 {
		t.Fatalf("alice REGISTER: %v %v", res, err)
	}
	addXMPPGateway(t, p, pros)
	return pros, p, alice
}

// addXMPPGateway adds bin/parley-xmpp through parleyctl on p as the
// singleton chain entry claiming *@xmpp.test, a component of pros.
func addXMPPGateway(t *testing.T, p *parleyd, pros *prosody) {
	t.Helper()
	if _, err := p.ctl("app", "add", "xmpp", "--kind", "plugin", "--command", "parley-xmpp", "--singleton",
		"--claims", "*@xmpp.test", "--methods", "MESSAGE", "--position", "50",
		"--setting", fmt.Sprintf("server=127.0.0.1:%d", pros.comp), "--setting", "secret-file="+pros.secretFile,
		"--setting", "domains=xmpp.test", "--setting", "reconnect-min=200ms", "--setting", "reconnect-max=1s"); err != nil {
		t.Fatal(err)
	}
}

// waitGatewayUp sends alice's MESSAGE to juliet@xmpp.test until it is
// answered 200 (480 while the plugin starts, 503 while its link
// connects).
func waitGatewayUp(t *testing.T, alice *sipUA, cid, body string, extra ...string) {
	t.Helper()
	up := time.Now()
	var code int
	for i := 0; i < 60; i++ {
		if code = sipMessage(t, alice, "sip:juliet@xmpp.test", cid, body, extra...); code == 200 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if code != 200 {
		t.Fatalf("MESSAGE to juliet@xmpp.test: %d, want 200 once the gateway runs", code)
	}
	t.Logf("gateway answering after %v", time.Since(up).Round(time.Millisecond))
}

// TestXMPPGatewayMessages: parleyd with the parley-xmpp plugin added
// through parleyctl, connected as a component of a real Prosody; a SIP
// user (alice) and slixmpp users exchange messages both ways, with
// Unicode and an XEP-0106-escaped address; unknown and unregistered SIP
// users and an unknown XMPP user are reported as RFC 7247 maps them; the
// component answers disco#info, ping and version.
func TestXMPPGatewayMessages(t *testing.T) {
	start := time.Now()
	pros, p, alice := startXMPPGateway(t, map[string]string{"juliet": "julietpw", `juliet\20smith`: "smithpw"})
	juliet := startXMPPUser(t, pros, "juliet@xmpp.test/balcony", "julietpw")
	smith := startXMPPUser(t, pros, `juliet\20smith@xmpp.test/desk`, "smithpw")
	t.Logf("prosody, parleyd, two XMPP users up in %v", time.Since(start).Round(time.Millisecond))

	// SIP -> XMPP, once the plugin runs and its link is up.
	const toJuliet = "hello Juliet — ☃ 日本語 ü"
	cid := "xmpp-" + randHex(8) + "@" + alice.local
	waitGatewayUp(t, alice, cid, toJuliet, "Subject: balcony", "Content-Language: en")
	got := juliet.mustWait("alice's message", 10*time.Second, func(e xmppEvent) bool { return e.Ev == "message" && e.Body == toJuliet })
	if got.From != "alice@localhost" || got.Subject != "balcony" || got.Thread != cid || got.Lang != "en" {
		t.Errorf("juliet got %+v: want from alice@localhost, subject, thread = Call-ID %s, lang en", got, cid)
	}

	// XMPP -> SIP.
	const toAlice = "bonjour Alice — ☃ 日本語 ü"
	juliet.cmd(map[string]string{"cmd": "send", "to": "alice@localhost", "body": toAlice, "thread": "th-" + randHex(4)})
	m, err := waitSIPRequest(alice, 10*time.Second, func(m *sipMsg) bool { return m.Method == "MESSAGE" && m.Body == toAlice })
	if err != nil {
		t.Fatal(err)
	}
	if from := uriOf(m.Header("From")); from != "sip:juliet@xmpp.test" || !strings.HasPrefix(m.Header("Content-Type"), "text/plain") ||
		!strings.HasPrefix(m.Header("Call-ID"), "th-") {
		t.Errorf("alice got From %s, Content-Type %s, Call-ID %s", from, m.Header("Content-Type"), m.Header("Call-ID"))
	}
	if m.Header("X-Parley-Link") != "" {
		t.Error("alice got the link credential")
	}

	// Typing notifications: juliet's XEP-0085 <composing/> reaches alice
	// as an RFC 3994 isComposing MESSAGE, and alice's isComposing reaches
	// juliet as a bodiless chat state.
	juliet.cmd(map[string]string{"cmd": "chatstate", "to": "alice@localhost", "state": "composing"})
	m, err = waitSIPRequest(alice, 10*time.Second, func(m *sipMsg) bool {
		return m.Method == "MESSAGE" && strings.HasPrefix(m.Header("Content-Type"), "application/im-iscomposing+xml")
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Body, "<state>active</state>") || uriOf(m.Header("From")) != "sip:juliet@xmpp.test" {
		t.Errorf("juliet's composing arrived as:\n%s", m.Raw)
	}
	const typing = `<?xml version="1.0" encoding="UTF-8"?><isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active</state><contenttype>text/plain</contenttype><refresh>60</refresh></isComposing>`
	if res, err := alice.send(&outReq{Method: "MESSAGE", RURI: "sip:juliet@xmpp.test", From: fmt.Sprintf("<%s>;tag=%s", alice.aor(), randHex(4)),
		To: "<sip:juliet@xmpp.test>", CallID: "typing-" + randHex(8), CSeq: 1, ContentType: "application/im-iscomposing+xml", Body: typing}); err != nil || res.Code != 200 {
		t.Fatalf("alice's isComposing: %v %v", res, err)
	}
	juliet.mustWait("alice typing", 10*time.Second, func(e xmppEvent) bool {
		return e.Ev == "message" && e.ChatState == "composing" && e.Body == "" && strings.HasPrefix(e.From, "alice@")
	})

	// The escaped address, both ways: sip:juliet%20smith <-> juliet\20smith.
	if code := sipMessage(t, alice, "sip:juliet%20smith@xmpp.test", "esc-"+randHex(8), "to the escaped one ✓"); code != 200 {
		t.Fatalf("MESSAGE to juliet%%20smith: %d", code)
	}
	smith.mustWait("alice's message", 10*time.Second, func(e xmppEvent) bool { return e.Ev == "message" && e.Body == "to the escaped one ✓" })
	smith.cmd(map[string]string{"cmd": "send", "to": "alice@localhost", "body": "from the escaped one ✓"})
	m, err = waitSIPRequest(alice, 10*time.Second, func(m *sipMsg) bool { return m.Method == "MESSAGE" && m.Body == "from the escaped one ✓" })
	if err != nil {
		t.Fatal(err)
	}
	if from := uriOf(m.Header("From")); from != "sip:juliet%20smith@xmpp.test" {
		t.Errorf("escaped sender arrived as %s, want sip:juliet%%20smith@xmpp.test", from)
	}

	// Unknown SIP user -> item-not-found (SIP 404, RFC 7247 section
	// 7.2). A known user who is not registered gets no error: the MESSAGE
	// is stored (202, core/offline), as an XMPP server stores a message
	// for an offline user, and bob gets it, with its Date, when he
	// registers.
	id := "e-" + randHex(6)
	juliet.cmd(map[string]string{"cmd": "send", "to": "nobody@localhost", "body": "anyone there?", "id": id})
	e := juliet.mustWait("error from nobody@localhost", 15*time.Second, func(e xmppEvent) bool { return e.Ev == "error" && e.ID == id })
	if e.Cond != "item-not-found" || e.From != "nobody@localhost" {
		t.Errorf("message to nobody@localhost: error %+v, want item-not-found from nobody@localhost", e)
	}
	juliet.cmd(map[string]string{"cmd": "send", "to": "bob@localhost", "body": "see you later", "id": "e-" + randHex(6)})
	time.Sleep(time.Second) // stored before bob registers (no answer reaches juliet either way)
	bob := newSipUA(t, p.sipAddr(), "bob", "secret")
	if res, err := bob.register(300); err != nil || res.Code != 200 {
		t.Fatalf("bob's REGISTER: %v %v", res, err)
	}
	m, err = waitSIPRequest(bob, 15*time.Second, func(m *sipMsg) bool { return m.Method == "MESSAGE" && m.Body == "see you later" })
	if err != nil {
		t.Fatalf("bob got no stored message from juliet: %v", err)
	}
	if m.Header("Date") == "" || uriOf(m.Header("From")) != "sip:juliet@xmpp.test" {
		t.Errorf("stored message: Date %q, From %q", m.Header("Date"), m.Header("From"))
	}
	if ev, err := juliet.wait("an error from bob", time.Second, func(e xmppEvent) bool { return e.Ev == "error" && e.From == "bob@localhost" }); err == nil {
		t.Errorf("juliet got an error for a message stored for bob: %+v", ev)
	}

	// Unknown XMPP user: 200 once written, then Prosody's
	// <service-unavailable/> comes back and alice gets an IMDN failure
	// notification carrying the RFC 7247 mapping (403).
	ghostCID := "ghost-" + randHex(8)
	if code := sipMessage(t, alice, "sip:ghost@xmpp.test", ghostCID, "are you real?"); code != 200 {
		t.Fatalf("MESSAGE to ghost: %d, want 200 (XMPP acknowledges nothing)", code)
	}
	m, err = waitSIPRequest(alice, 10*time.Second, func(m *sipMsg) bool {
		return m.Method == "MESSAGE" && strings.Contains(m.Header("Content-Type"), "imdn")
	})
	if err != nil {
		t.Fatal(err)
	}
	if uriOf(m.Header("From")) != "sip:ghost@xmpp.test" || !strings.Contains(m.Body, "<message-id>"+ghostCID+"</message-id>") ||
		!strings.Contains(m.Body, "<failed/>") || !strings.Contains(m.Header("Reason"), "cause=403") {
		t.Errorf("IMDN for ghost:\n%s", m.Raw)
	}
	checkXMPPOperations(t, p)

	// Service discovery, ping and version of the component.
	juliet.cmd(map[string]string{"cmd": "disco", "to": domain})
	d := juliet.mustWait("disco#info", 10*time.Second, func(e xmppEvent) bool { return e.Ev == "disco" })
	found := false
	for _, id := range d.Identities {
		if len(id) >= 2 && id[0] == "gateway" && id[1] == "sip" {
			found = true
		}
	}
	if !found || !containsStr(d.Features, "urn:xmpp:ping") || !containsStr(d.Features, "jabber:iq:version") {
		t.Errorf("disco#info of %s: %+v", domain, d)
	}
	juliet.cmd(map[string]string{"cmd": "ping", "to": domain})
	if e := juliet.mustWait("ping", 10*time.Second, func(e xmppEvent) bool { return e.Ev == "ping" }); e.OK == nil || !*e.OK {
		t.Errorf("ping: %+v", e)
	}
	juliet.cmd(map[string]string{"cmd": "version", "to": domain})
	if e := juliet.mustWait("version", 10*time.Second, func(e xmppEvent) bool { return e.Ev == "version" }); e.Name != "Parley XMPP gateway" {
		t.Errorf("version: %+v", e)
	}
	t.Logf("whole test %v", time.Since(start).Round(time.Millisecond))
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func dialTCP(port int) (net.Conn, error) {
	return net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
}
