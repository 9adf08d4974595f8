package node

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestNodeWatchOutsideAddress: a local user watches an outside address
// a real plugin process claims (the verbs test plugin, for
// xmpp.example.test) and gets what the plugin publishes for it, and
// every change of it; an outside address nobody claims stays 404.
func TestNodeWatchOutsideAddress(t *testing.T) {
	n, alice, bob := startPluginNode(t)
	n.adminCall(t, "POST", "/v1/apps", map[string]any{"name": "verbs", "kind": "plugin", "command": "verbs", "position": 50, "enabled": true}, 201)
	untilStatus(t, 202, func() *sip.Response { return alice.sendTo(t, n, "sip:someone@gw.example", "hi") })

	romeo := sip.Uri{Scheme: "sip", User: "romeo", Host: "xmpp.example.test"}
	// Nothing published yet: offline, not refused.
	if res := bob.subscribeURI(t, n, "bob", "pw-bob", romeo, "presence"); res.StatusCode != 200 {
		t.Fatalf("subscribe to a claimed outside address: %d %s", res.StatusCode, res.Reason)
	}
	first := bob.nextNotify(t, "")
	if st := first.GetHeader("Subscription-State"); st == nil || !strings.HasPrefix(st.Value(), "active") {
		t.Fatalf("first NOTIFY state %v", st)
	}
	if body := string(first.Body()); !strings.Contains(body, "<basic>closed</basic>") || !strings.Contains(body, "romeo@xmpp.example.test") {
		t.Fatalf("nothing published, yet the watcher sees:\n%s", body)
	}

	// The plugin publishes for romeo: the watcher is told, then told again
	// when it publishes anew.
	if res := alice.sendTo(t, n, "sip:bob@localhost", "publish romeo@xmpp.example.test"); res.StatusCode != 200 {
		t.Fatalf("publish: %d %q", res.StatusCode, header(res, "X-Error"))
	}
	bob.nextNotify(t, "<basic>open</basic>")
	if res := alice.sendTo(t, n, "sip:bob@localhost", "publish romeo@xmpp.example.test wherefore art thou"); res.StatusCode != 200 {
		t.Fatalf("republish: %d %q", res.StatusCode, header(res, "X-Error"))
	}
	bob.nextNotify(t, "wherefore art thou")

	// An outside address no plugin claims is no presentity of ours.
	juliet := sip.Uri{Scheme: "sip", User: "juliet", Host: "elsewhere.example.test"}
	if res := bob.subscribeURI(t, n, "bob", "pw-bob", juliet, "presence"); res.StatusCode != 404 {
		t.Fatalf("subscribe to an unclaimed outside address: %d", res.StatusCode)
	}
}
