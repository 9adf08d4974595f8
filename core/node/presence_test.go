package node

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

const awayPIDF = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"
  xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" entity="pres:alice@localhost">
  <tuple id="t1"><status><basic>open</basic></status></tuple>
  <dm:person id="p1"><rpid:activities><rpid:away/></rpid:activities></dm:person>
  <note>Away</note>
</presence>`

// subscribe sends an initial SUBSCRIBE from u (user) to target.
func (a *ua) subscribe(t *testing.T, n *testNode, user, pw, target, event string) *sip.Response {
	t.Helper()
	return a.subscribeURI(t, n, user, pw, sip.Uri{Scheme: "sip", User: target, Host: "localhost"}, event)
}

// subscribeURI sends an initial SUBSCRIBE from u (user) to uri.
func (a *ua) subscribeURI(t *testing.T, n *testNode, user, pw string, uri sip.Uri, event string) *sip.Response {
	t.Helper()
	req := sip.NewRequest(sip.SUBSCRIBE, uri)
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "localhost"}, Params: tagParams()})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: a.port}})
	req.AppendHeader(sip.NewHeader("Event", event))
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	return a.do(t, n, req, user, pw)
}

func (a *ua) publish(t *testing.T, n *testNode, user, pw, body, ifMatch string) *sip.Response {
	t.Helper()
	req := sip.NewRequest(sip.PUBLISH, sip.Uri{Scheme: "sip", User: user, Host: "localhost"})
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "localhost"}, Params: tagParams()})
	req.AppendHeader(sip.NewHeader("Event", "presence"))
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	if ifMatch != "" {
		req.AppendHeader(sip.NewHeader("SIP-If-Match", ifMatch))
	}
	if body != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/pidf+xml"))
		req.SetBody([]byte(body))
	}
	return a.do(t, n, req, user, pw)
}

// nextNotify waits for a NOTIFY whose body contains want (any body if "").
func (a *ua) nextNotify(t *testing.T, want string) *sip.Request {
	t.Helper()
	deadline := time.After(10 * time.Second)
	var seen []string
	for {
		select {
		case req := <-a.notifies:
			if want == "" || strings.Contains(string(req.Body()), want) {
				return req
			}
			seen = append(seen, req.String())
		case <-deadline:
			t.Fatalf("no NOTIFY containing %q; got %d others:\n%s", want, len(seen), strings.Join(seen, "\n----\n"))
			return nil
		}
	}
}

func TestNodePresence(t *testing.T) {
	n := startNode(t)
	for _, u := range []string{"alice", "bob", "eve"} {
		n.addUser(t, u, "pw-"+u)
	}
	alice, bob, eve := newUA(t, "alice"), newUA(t, "bob"), newUA(t, "eve")
	if res := alice.register(t, n, "alice", "pw-alice"); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	if res := bob.subscribe(t, n, "bob", "pw-bob", "alice", "presence"); res.StatusCode != 200 {
		t.Fatalf("subscribe: %d %s", res.StatusCode, res.Reason)
	}
	first := bob.nextNotify(t, "")
	if st := first.GetHeader("Subscription-State"); st == nil || !strings.HasPrefix(st.Value(), "active") {
		t.Fatalf("first NOTIFY state %v", st)
	}
	if !strings.Contains(string(first.Body()), "<basic>open</basic>") {
		t.Fatalf("registered alice not online:\n%s", first.Body())
	}
	res := alice.publish(t, n, "alice", "pw-alice", awayPIDF, "")
	etag := res.GetHeader("SIP-ETag")
	if res.StatusCode != 200 || etag == nil {
		t.Fatalf("publish: %d", res.StatusCode)
	}
	if away := bob.nextNotify(t, "away"); away == nil {
		t.Fatal("no away")
	}
	// Refresh by ETag; an unknown ETag is 412.
	if res := alice.publish(t, n, "alice", "pw-alice", "", etag.Value()); res.StatusCode != 200 {
		t.Fatalf("refresh: %d", res.StatusCode)
	}
	if res := alice.publish(t, n, "alice", "pw-alice", "", "no-such-etag"); res.StatusCode != 412 {
		t.Fatalf("unknown etag: %d", res.StatusCode)
	}
	// Watcher info: alice sees bob.
	if res := alice.subscribe(t, n, "alice", "pw-alice", "alice", "presence.winfo"); res.StatusCode != 200 {
		t.Fatalf("winfo subscribe: %d", res.StatusCode)
	}
	if w := alice.nextNotify(t, "sip:bob@localhost"); w.GetHeader("Content-Type").Value() != "application/watcherinfo+xml" {
		t.Fatalf("winfo content type %s", w.GetHeader("Content-Type").Value())
	}
	// Nobody else may read alice's watcher info.
	if res := eve.subscribe(t, n, "eve", "pw-eve", "alice", "presence.winfo"); res.StatusCode != 403 {
		t.Fatalf("eve reading alice's winfo: %d", res.StatusCode)
	}
	// Alice unregisters: offline for bob.
	unreg := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "localhost"})
	aor := sip.Uri{Scheme: "sip", User: "alice", Host: "localhost"}
	unreg.AppendHeader(&sip.FromHeader{Address: aor, Params: tagParams()})
	unreg.AppendHeader(&sip.ToHeader{Address: aor})
	unreg.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Wildcard: true}})
	unreg.AppendHeader(sip.NewHeader("Expires", "0"))
	if res := alice.do(t, n, unreg, "alice", "pw-alice"); res.StatusCode != 200 {
		t.Fatalf("unregister: %d", res.StatusCode)
	}
	bob.nextNotify(t, "<basic>closed</basic>")
}

func TestNodePresenceBlockedWatcherSeesOffline(t *testing.T) {
	n := startNode(t)
	for _, u := range []string{"alice", "eve"} {
		n.addUser(t, u, "pw-"+u)
	}
	alice, eve := newUA(t, "alice"), newUA(t, "eve")
	alice.register(t, n, "alice", "pw-alice")
	n.blockWatcher(t, "alice", "sip:eve@localhost")
	if res := eve.subscribe(t, n, "eve", "pw-eve", "alice", "presence"); res.StatusCode != 200 {
		t.Fatalf("blocked watcher got %d: a block must not show", res.StatusCode)
	}
	if body := string(eve.nextNotify(t, "").Body()); !strings.Contains(body, "<basic>closed</basic>") {
		t.Fatalf("blocked watcher sees:\n%s", body)
	}
}

// TestNodeSubscriptionSurvivesRestart: subscriptions are replicated
// dialogs, so after a restart the node still notifies the watcher.
func TestNodeSubscriptionSurvivesRestart(t *testing.T) {
	n := startNode(t)
	n.addUser(t, "alice", "pw-alice")
	n.addUser(t, "bob", "pw-bob")
	alice, bob := newUA(t, "alice"), newUA(t, "bob")
	alice.register(t, n, "alice", "pw-alice")
	if res := bob.subscribe(t, n, "bob", "pw-bob", "alice", "presence"); res.StatusCode != 200 {
		t.Fatalf("subscribe: %d", res.StatusCode)
	}
	bob.nextNotify(t, "<basic>open</basic>")
	n.restart(t)
	if res := alice.publish(t, n, "alice", "pw-alice", awayPIDF, ""); res.StatusCode != 200 {
		t.Fatalf("publish after restart: %d", res.StatusCode)
	}
	if req := bob.nextNotify(t, "away"); req.CSeq() == nil {
		t.Fatal("NOTIFY without CSeq")
	}
}
