package node

import (
	"strings"
	"testing"
	"time"

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
	sub := bob.subscribeURI(t, n, "bob", "pw-bob", romeo, "presence")
	if sub.StatusCode != 200 {
		t.Fatalf("subscribe to a claimed outside address: %d %s", sub.StatusCode, sub.Reason)
	}
	// The plugin asked to hear of its addresses' watchers.
	watchersAre(t, n, alice, "romeo@xmpp.example.test", "bob@localhost")
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

	// Bob unsubscribes: the plugin hears nobody watches romeo any more.
	unsub := sip.NewRequest(sip.SUBSCRIBE, sub.Contact().Address)
	unsub.AppendHeader(sub.From())
	unsub.AppendHeader(sub.To())
	unsub.AppendHeader(sub.CallID())
	unsub.AppendHeader(&sip.CSeqHeader{SeqNo: sub.CSeq().SeqNo + 10, MethodName: sip.SUBSCRIBE})
	unsub.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: bob.port}})
	unsub.AppendHeader(sip.NewHeader("Event", "presence"))
	unsub.AppendHeader(sip.NewHeader("Expires", "0"))
	if res := bob.do(t, n, unsub, "bob", "pw-bob"); res.StatusCode != 200 {
		t.Fatalf("unsubscribe: %d %s", res.StatusCode, res.Reason)
	}
	bob.nextNotify(t, "")
	watchersAre(t, n, alice, "romeo@xmpp.example.test", "none")

	// An outside address no plugin claims is no presentity of ours.
	juliet := sip.Uri{Scheme: "sip", User: "juliet", Host: "elsewhere.example.test"}
	if res := bob.subscribeURI(t, n, "bob", "pw-bob", juliet, "presence"); res.StatusCode != 404 {
		t.Fatalf("subscribe to an unclaimed outside address: %d", res.StatusCode)
	}
}

// watchersAre asks the verbs plugin, until it says want (bounded), whom
// it was told watches aor.
func watchersAre(t *testing.T, n *testNode, alice *ua, aor, want string) {
	t.Helper()
	var got string
	for i := 0; i < 50; i++ {
		if got = header(alice.sendTo(t, n, "sip:bob@localhost", "watchers "+aor), "X-Watchers"); got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("plugin told of watchers %q of %s, want %q", got, aor, want)
}
