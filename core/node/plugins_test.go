package node

import (
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
	for _, p := range []string{"contentfilter", "afterhours"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, p), "github.com/parley-rtc/parley/plugins/examples/"+p).CombinedOutput()
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

func TestNodePluginChain(t *testing.T) {
	dir := buildPlugins(t)
	n := startNodeWith(t, func(c *config.Config) { c.PluginDir = dir })
	for _, u := range []string{"alice", "bob"} {
		n.addUser(t, u, "pw-"+u)
	}
	alice, bob := newUA(t, "alice"), newUA(t, "bob")
	bob.register(t, n, "bob", "pw-bob")
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
