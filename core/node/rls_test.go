package node

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func (n *testNode) putContacts(t *testing.T, user string, contacts []map[string]any) {
	t.Helper()
	n.adminCall(t, "PUT", "/v1/users/"+user+"/contacts", contacts, 204)
}

func (a *ua) subscribeList(t *testing.T, n *testNode, user, pw, list string, eventlist bool) *sip.Response {
	t.Helper()
	req := sip.NewRequest(sip.SUBSCRIBE, sip.Uri{Scheme: "sip", User: list, Host: "localhost"})
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "localhost"}, Params: tagParams()})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: a.port}})
	req.AppendHeader(sip.NewHeader("Event", "presence"))
	req.AppendHeader(sip.NewHeader("Accept", "application/pidf+xml, application/rlmi+xml, multipart/related"))
	if eventlist {
		req.AppendHeader(sip.NewHeader("Supported", "eventlist"))
	}
	return a.do(t, n, req, user, pw)
}

func TestNodeResourceListSubscription(t *testing.T) {
	n := startNode(t)
	for _, u := range []string{"alice", "bob", "eve"} {
		n.addUser(t, u, "pw-"+u)
	}
	alice, bob, eve := newUA(t, "alice"), newUA(t, "bob"), newUA(t, "eve")
	bob.register(t, n, "bob", "pw-bob")
	n.putContacts(t, "alice", []map[string]any{{"uri": "sip:bob@localhost", "name": "Bob", "groups": []string{"friends"}}})

	if res := alice.subscribeList(t, n, "alice", "pw-alice", "alice+contacts", false); res.StatusCode != 421 {
		t.Fatalf("list without eventlist: %d", res.StatusCode)
	}
	if res := eve.subscribeList(t, n, "eve", "pw-eve", "alice+contacts", true); res.StatusCode != 403 {
		t.Fatalf("eve on alice's list: %d", res.StatusCode)
	}
	res := alice.subscribeList(t, n, "alice", "pw-alice", "alice+friends", true)
	if res.StatusCode != 200 || res.GetHeader("Require") == nil || res.GetHeader("Require").Value() != "eventlist" {
		t.Fatalf("list subscribe: %d %v", res.StatusCode, res.GetHeader("Require"))
	}
	first := alice.nextNotify(t, "sip:bob@localhost")
	if ct := first.GetHeader("Content-Type").Value(); !strings.HasPrefix(ct, "multipart/related") || !strings.Contains(ct, "rlmi") {
		t.Fatalf("list NOTIFY content type %s", ct)
	}
	if !strings.Contains(string(first.Body()), "<basic>open</basic>") {
		t.Fatalf("registered bob not online in the list:\n%s", first.Body())
	}
	if res := bob.publish(t, n, "bob", "pw-bob", strings.ReplaceAll(awayPIDF, "alice", "bob"), ""); res.StatusCode != 200 {
		t.Fatalf("bob publish: %d", res.StatusCode)
	}
	alice.nextNotify(t, "away")
}
