//go:build interop

package xmpp

import (
	"bufio"
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mellium.im/xmlstream"
	mxmpp "mellium.im/xmpp"
)

// TestInteropProsodyComponent starts a real Prosody on 127.0.0.1 with a
// VirtualHost for users and a Component for the gateway, connects the
// component link, and exchanges messages with a real slixmpp client both
// ways. Prosody runs in the foreground with everything in a temp dir; as
// root it starts because mod_posix (which refuses root) is disabled.
func TestInteropProsodyComponent(t *testing.T) {
	for _, bin := range []string{"/usr/bin/prosody", "/usr/bin/python3"} {
		if _, err := os.Stat(bin); err != nil {
			t.Skipf("%s: %v", bin, err)
		}
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import slixmpp").Run(); err != nil {
		t.Skipf("slixmpp: %v", err)
	}
	dir := t.TempDir()
	c2s, comp := freePort(t), freePort(t)
	const secret = "interop-secret"
	cfgPath := filepath.Join(dir, "prosody.cfg.lua")
	os.MkdirAll(filepath.Join(dir, "data"), 0o700)
	os.MkdirAll(filepath.Join(dir, "certs"), 0o700)
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
modules_disabled = { "s2s", "posix" }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
VirtualHost "xmpp.test"
Component "gw.test"
  component_secret = %[6]q
  component_conflict_resolve = "kick_old"
`, filepath.Join(dir, "prosody.pid"), filepath.Join(dir, "data"), filepath.Join(dir, "certs"), c2s, comp, secret)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// The user's account, as internal_plain stores it (prosodyctl refuses a
	// config the prosody user cannot read, and a root test's temp dir is not).
	acct := filepath.Join(dir, "data", "xmpp%2etest", "accounts")
	os.MkdirAll(acct, 0o700)
	if err := os.WriteFile(filepath.Join(acct, "alice.dat"), []byte(`return { ["password"] = "alicepw"; };`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	prosody := exec.CommandContext(ctx, "/usr/bin/prosody", "-F", "--config", cfgPath)
	prosodyLog, _ := os.Create(filepath.Join(dir, "prosody.log"))
	prosody.Stdout, prosody.Stderr = prosodyLog, prosodyLog
	if err := prosody.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		prosody.Process.Kill()
		prosody.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "prosody.log"))
			t.Logf("prosody log:\n%s", b)
		}
	}()
	waitPort(t, comp)

	secretFile := filepath.Join(dir, "secret")
	os.WriteFile(secretFile, []byte(secret+"\n"), 0o600)
	conf, err := ParseSettings(map[string]string{
		"server": fmt.Sprintf("127.0.0.1:%d", comp), "secret-file": secretFile,
		"domains": "xmpp.test", "reconnect-min": "100ms", "reconnect-max": "1s",
	}, []string{"gw.test"})
	if err != nil {
		t.Fatal(err)
	}
	type msg struct{ From, To, Body string }
	got := make(chan msg, 4)
	h := mxmpp.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
		if start.Name.Local != "message" {
			return nil
		}
		var m struct {
			From string `xml:"from,attr"`
			To   string `xml:"to,attr"`
			Body string `xml:"body"`
		}
		if err := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), r)).Decode(&m); err != nil {
			return err
		}
		got <- msg{m.From, m.To, m.Body}
		return nil
	})
	link := NewLink(conf, h, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	linkCtx, stopLink := context.WithCancel(ctx)
	linkDone := make(chan error, 1)
	go func() { linkDone <- link.Run(linkCtx) }()
	defer func() { stopLink(); <-linkDone }()
	for !link.State().Connected {
		select {
		case <-link.Changed():
		case <-ctx.Done():
			t.Fatalf("component never connected: %+v", link.State())
		}
	}

	// The XMPP client: sends to romeo@gw.test, then prints what it gets.
	script := fmt.Sprintf(`
import asyncio, sys, slixmpp
class C(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__("alice@xmpp.test/desk", "alicepw")
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.msg)
    async def start(self, ev):
        self.send_presence()
        self.send_message(mto="romeo@gw.test", mbody="hello from xmpp \u00e9", mtype="chat")
        print("SENT", flush=True)
    def msg(self, m):
        print("GOT", m["from"], m["body"], flush=True)
        self.disconnect()
c = C()
c.connect(("127.0.0.1", %d), disable_starttls=True, force_starttls=False)
c.loop.run_until_complete(asyncio.wait_for(c.disconnected, 30))
`, c2s)
	py := exec.CommandContext(ctx, "/usr/bin/python3", "-c", script)
	pyOut, _ := py.StdoutPipe()
	py.Stderr = os.Stderr
	if err := py.Start(); err != nil {
		t.Fatal(err)
	}
	defer py.Wait()
	lines := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(pyOut)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()

	var in msg
	select {
	case in = <-got:
	case <-ctx.Done():
		t.Fatal("no message reached the component")
	}
	if in.To != "romeo@gw.test" || in.Body != "hello from xmpp é" || !strings.HasPrefix(in.From, "alice@xmpp.test/") {
		t.Fatalf("component got %+v", in)
	}
	reply := fmt.Sprintf(`<message xmlns="jabber:component:accept" from="romeo@gw.test" to=%q type="chat"><body>hello from the gateway</body></message>`, in.From)
	if err := link.Send(ctx, xml.NewDecoder(strings.NewReader(reply))); err != nil {
		t.Fatal(err)
	}
	for line := range lines {
		if strings.HasPrefix(line, "GOT ") {
			if line != "GOT romeo@gw.test hello from the gateway" {
				t.Fatalf("client got %q", line)
			}
			return
		}
	}
	t.Fatal("the client never got the component's message")
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitPort(t *testing.T, port int) {
	for i := 0; i < 100; i++ {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("port %d never opened", port)
}
