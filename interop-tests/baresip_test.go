//go:build interop

package interop

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// baresip is one baresip 1.0 user agent (Debian's baresip-core) driven
// through its stdin (modules stdio + menu; /message comes from contact).
type baresip struct {
	t     *testing.T
	user  string
	port  int // SIP UDP/TCP; baresip also binds port+1 for TLS
	out   string
	stdin io.WriteCloser
	cmd   *exec.Cmd
	done  chan struct{}
}

// Only these modules are loaded: no audio, no video, no network probing.
const baresipConfig = `poll_method		epoll
sip_listen		127.0.0.1:%d
net_interface		127.0.0.1
module_path		/usr/lib/baresip/modules
module			stdio.so
module_app		account.so
module_app		contact.so
module_app		menu.so
`

// startBaresip starts baresip for user (password "secret") registering
// through parleyd over UDP, with contacts as its address book, and waits
// until it reports a successful registration.
func startBaresip(t *testing.T, p *parleyd, user string, contacts ...string) *baresip {
	t.Helper()
	return startBaresipWith(t, p, user, baresipOptions{}, contacts...)
}

// baresipOptions adds to the default configuration.
type baresipOptions struct {
	modules       []string // more module_app lines, e.g. "presence.so"
	accountParams string   // appended to the account line, e.g. ";pubint=600"
	transport     string   // to the server: "udp" (default) or "tcp"
}

// startBaresipWith is startBaresip with more modules or account parameters.
func startBaresipWith(t *testing.T, p *parleyd, user string, opts baresipOptions, contacts ...string) *baresip {
	t.Helper()
	b := &baresip{t: t, user: user, port: freePorts(t, 1, 2)[0], done: make(chan struct{})}
	dir := filepath.Join(t.TempDir(), "baresip-"+user)
	b.out = filepath.Join(dir, "output.log")
	config := fmt.Sprintf(baresipConfig, b.port)
	if opts.transport == "" {
		opts.transport = "udp"
	}
	for _, m := range opts.modules {
		config += "module_app\t\t" + m + "\n"
	}
	files := map[string]string{
		"config": config,
		"accounts": fmt.Sprintf("<sip:%s@%s>;auth_pass=secret;outbound=\"sip:%s;transport=%s\";regint=600%s\n",
			user, domain, p.sipAddr(), opts.transport, opts.accountParams),
		"contacts": strings.Join(contacts, "\n") + "\n",
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b.launch(t, dir, files, user)
	if err := b.waitOutput("registered successfully", 15*time.Second); err != nil {
		t.Fatalf("baresip %s did not register: %v", user, err)
	}
	return b
}

// command types one line at baresip's prompt.
func (b *baresip) command(line string) {
	b.t.Helper()
	if _, err := io.WriteString(b.stdin, line+"\n"); err != nil {
		b.t.Fatalf("baresip %s: write %q: %v", b.user, line, err)
	}
}

// waitOutput polls baresip's output for text.
func (b *baresip) waitOutput(text string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		data, _ := os.ReadFile(b.out)
		if strings.Contains(string(data), text) {
			return nil
		}
		select {
		case <-b.done:
			return fmt.Errorf("baresip %s exited without printing %q:\n%s", b.user, text, data)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("baresip %s: no %q after %v:\n%s", b.user, text, limit, data)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// quit asks baresip to quit (it unregisters), then kills it after 5 s.
func (b *baresip) quit() {
	select {
	case <-b.done:
		return
	default:
	}
	_, _ = io.WriteString(b.stdin, "/quit\n")
	select {
	case <-b.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-b.done
	}
}

// TestBaresipMessage: two real user agents register with digest over UDP;
// alice's /message reaches bob, who prints it.
//
// baresip 1.0 (libre 1.1) fails the whole REGISTER with "Function not
// implemented" (ENOSYS) as soon as any challenge names an algorithm other
// than MD5, whatever the order of the WWW-Authenticate headers; parleyd's
// default (digest-algorithms MD5) must therefore work as it is.
func TestBaresipMessage(t *testing.T) {
	p := startParleyd(t)
	p.addUser("alice", "secret")
	p.addUser("bob", "secret")
	bob := startBaresip(t, p, "bob")
	alice := startBaresip(t, p, "alice", `"Bob" <sip:bob@localhost>`)
	if err := p.waitBinding("bob", bob.port, true, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf("hello bob from baresip %d", time.Now().UnixNano()%100000)
	alice.command("/message " + text)
	// bob's menu module prints: sip:alice@localhost: "TEXT"
	if err := bob.waitOutput(`"`+text+`"`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := bob.waitOutput("sip:alice@localhost", time.Second); err != nil {
		t.Error(err)
	}
}

// launch writes baresip's configuration files into dir and starts it
// there (it quits by itself after 80 s whatever happens); the test's
// cleanup stops it and shows its output when the test failed.
func (b *baresip) launch(t *testing.T, dir string, files map[string]string, label string) {
	t.Helper()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := os.Create(b.out)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	b.cmd = exec.CommandContext(ctx, "baresip", "-f", dir, "-t", "80")
	b.cmd.Dir = dir
	b.cmd.Stdout, b.cmd.Stderr = out, out
	b.cmd.SysProcAttr = childAttr()
	b.cmd.Cancel = func() error { return syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL) }
	if b.stdin, err = b.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start baresip: %v", err)
	}
	go func() {
		_ = b.cmd.Wait()
		out.Close()
		cancel()
		close(b.done)
	}()
	t.Cleanup(func() {
		b.quit()
		if t.Failed() {
			t.Logf("baresip %s output:\n%s", label, tailFile(b.out, 8<<10))
		}
	})
}
