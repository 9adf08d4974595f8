package node

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/config"
)

// buildPlugins builds the example plugins into a fresh directory.
func buildPlugins(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range []string{"examples/contentfilter", "examples/afterhours", "host/testdata/verbs"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, filepath.Base(p)), "github.com/parley-rtc/parley/plugins/"+p).CombinedOutput()
		if err != nil {
			t.Fatalf("build %s: %v\n%s", p, err, out)
		}
	}
	return dir
}

// untilStatus resends until the answer is want (a plugin starting up is
// skipped meanwhile), bounded.
func untilStatus(t *testing.T, want int, send func() *sip.Response) {
	t.Helper()
	var got int
	for i := 0; i < 50; i++ {
		if got = send().StatusCode; got == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("status %d, want %d", got, want)
}

// startPluginNode starts a node whose plugin-dir holds the example and
// test plugins, with users alice and bob, bob registered.
func startPluginNode(t *testing.T) (n *testNode, alice, bob *ua) {
	t.Helper()
	dir := buildPlugins(t)
	n = startNodeWith(t, func(c *config.Config) { c.PluginDir = dir })
	for _, u := range []string{"alice", "bob"} {
		n.addUser(t, u, "pw-"+u)
	}
	alice, bob = newUA(t, "alice"), newUA(t, "bob")
	bob.register(t, n, "bob", "pw-bob")
	return n, alice, bob
}

func TestNodePluginChain(t *testing.T) {
	n, alice, bob := startPluginNode(t)
	n.adminCall(t, "POST", "/v1/apps", map[string]any{"name": "filter", "kind": "plugin", "command": "contentfilter", "position": 50,
		"enabled": true, "settings": map[string]string{"words": "secret"}, "claims": []string{"*@xmpp.example.net"}}, 201)

	// The filter blocks a message with a listed word, lets others through.
	untilStatus(t, 403, func() *sip.Response { return alice.messageBody(t, n, "alice", "bob", "pw-alice", "the secret plan") })
	if res := alice.message(t, n, "alice", "bob", "pw-alice"); res.StatusCode != 200 {
		t.Fatalf("clean message: %d", res.StatusCode)
	}
	<-bob.got

	// A claimed address is the plugin's: not the foreign-domain 403.
	req := sip.NewRequest(sip.MESSAGE, sip.Uri{Scheme: "sip", User: "carol", Host: "xmpp.example.net"})
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "localhost"}, Params: tagParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
	req.SetBody([]byte("hi"))
	if res := alice.do(t, n, req, "alice", "pw-alice"); res.StatusCode != 480 {
		t.Fatalf("claimed address nobody took: %d", res.StatusCode)
	}

	// After hours, calls and messages go to voicemail.
	n.adminCall(t, "POST", "/v1/apps", map[string]any{"name": "afterhours", "kind": "plugin", "command": "afterhours", "position": 60,
		"enabled": true, "settings": map[string]string{"now": "2026-11-21T23:00:00Z"}}, 201)
	untilStatus(t, 302, func() *sip.Response { return alice.message(t, n, "alice", "bob", "pw-alice") })

	// A critical plugin that cannot run makes the node answer 503.
	n.adminCall(t, "POST", "/v1/apps", map[string]any{"name": "missing", "kind": "plugin", "command": "no-such-plugin", "position": 10,
		"enabled": true, "critical": true}, 201)
	untilStatus(t, 503, func() *sip.Response { return alice.message(t, n, "alice", "bob", "pw-alice") })
}

// sendTo sends a MESSAGE with body from alice to uri.
func (a *ua) sendTo(t *testing.T, n *testNode, uri, body string) *sip.Response {
	t.Helper()
	return a.send(t, n, sip.MESSAGE, uri, body)
}

// send sends a method request with a text body from alice to uri.
func (a *ua) send(t *testing.T, n *testNode, method sip.RequestMethod, uri, body string) *sip.Response {
	t.Helper()
	var u sip.Uri
	if err := sip.ParseUri(uri, &u); err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(method, u)
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "localhost"}, Params: tagParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
	req.SetBody([]byte(body))
	return a.do(t, n, req, "alice", "pw-alice")
}

func header(res *sip.Response, name string) string {
	if h := res.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// TestNodePluginVerdictsAndServices drives a real plugin process (the
// verbs test plugin) through proxy and fork verdicts, its Describe
// claims, and every host service over the go-plugin broker.
func TestNodePluginVerdictsAndServices(t *testing.T) {
	n, alice, bob := startPluginNode(t)
	n.adminCall(t, "POST", "/v1/apps", map[string]any{"name": "verbs", "kind": "plugin", "command": "verbs", "position": 50, "enabled": true}, 201)

	// Claimed through the plugin's own Describe.
	untilStatus(t, 202, func() *sip.Response { return alice.sendTo(t, n, "sip:someone@gw.example", "hi") })

	bobURI := fmt.Sprintf("sip:bob@127.0.0.1:%d", bob.port)
	if res := alice.sendTo(t, n, "sip:bob@localhost", "proxy "+bobURI); res.StatusCode != 200 {
		t.Fatalf("proxy: %d", res.StatusCode)
	}
	<-bob.got
	// The plugin asked for final responses: it saw the 200.
	for i := 0; i < 50; i++ {
		if res := alice.sendTo(t, n, "sip:bob@localhost", "last"); header(res, "X-Last") == "200" {
			break
		} else if i == 49 {
			t.Fatalf("the plugin was not shown the final response: %q", header(res, "X-Last"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	closed := freePort(t) // nothing listens: the first branch fails at once
	if res := alice.sendTo(t, n, "sip:bob@localhost", fmt.Sprintf("fork sip:x@127.0.0.1:%d;transport=tcp %s", closed, bobURI)); res.StatusCode != 200 {
		t.Fatalf("fork: %d", res.StatusCode)
	}
	if got := <-bob.got; string(got.Body()) == "" {
		t.Fatal("fork: bob got an empty message")
	}
	if res := alice.sendTo(t, n, "sip:bob@localhost", "send bob@localhost"); res.StatusCode != 200 || header(res, "X-Sent") != "200" {
		t.Fatalf("send request: %d %q %q", res.StatusCode, header(res, "X-Sent"), header(res, "X-Error"))
	}
	if got := <-bob.got; string(got.Body()) != "from the gateway" {
		t.Fatalf("bob got %q", got.Body())
	}
	if res := alice.sendTo(t, n, "sip:bob@localhost", "kv v1"); res.StatusCode != 200 || header(res, "X-KV") != "v1" {
		t.Fatalf("kv: %d %q %q", res.StatusCode, header(res, "X-KV"), header(res, "X-Error"))
	}
	if res := alice.sendTo(t, n, "sip:bob@localhost", "publish carol@gw.example"); res.StatusCode != 200 || header(res, "X-Status") == "" {
		t.Fatalf("publish claimed: %d %q %q", res.StatusCode, header(res, "X-Status"), header(res, "X-Error"))
	}
	if res := alice.sendTo(t, n, "sip:bob@localhost", "publish bob@localhost"); res.StatusCode != 403 {
		t.Fatalf("publish for an address not claimed: %d", res.StatusCode)
	}
}
