package node

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

const wordFilter = `
- name: no-secrets
  when: Method == "MESSAGE" && Body contains "password"
  actions:
    - kind: respond
      code: 403
      reason: Forbidden (content)
- name: block-everything-strict
  when: StrictRouted
  actions:
    - kind: respond
      code: 488
      reason: Not Here
`

func TestNodeApplicationChain(t *testing.T) {
	n := startNode(t)
	for _, u := range []string{"alice", "bob"} {
		n.addUser(t, u, "pw-"+u)
	}
	alice, bob, gw := newUA(t, "alice"), newUA(t, "bob"), newUA(t, "gw")
	bob.register(t, n, "bob", "pw-bob")
	n.adminCall(t, "POST", "/v1/routes", map[string]any{"match": "phone:+1", "next_hop": fmt.Sprintf("sip:127.0.0.1:%d", gw.port)}, 201)
	n.adminCall(t, "POST", "/v1/apps", map[string]any{"name": "broken", "kind": "rules", "rules": "- name: x\n  when: Body +\n  actions: [{kind: log, message: m}]"}, 400)
	n.adminCall(t, "POST", "/v1/apps", map[string]any{"name": "filter", "kind": "rules", "position": 50, "enabled": true, "rules": wordFilter}, 201)
	n.adminCall(t, "POST", "/v1/apps", map[string]any{"name": "archive", "kind": "builtin", "position": 200, "enabled": true}, 201)

	// The filter runs before the router.
	if res := alice.message(t, n, "alice", "bob", "pw-alice"); res.StatusCode != 200 {
		t.Fatalf("plain message: %d", res.StatusCode)
	}
	<-bob.got
	req := alice.messageBody(t, n, "alice", "bob", "pw-alice", "my password is hunter2")
	if req.StatusCode != 403 {
		t.Fatalf("filtered message: %d", req.StatusCode)
	}
	// strictRoute=false: the filter never sees a phone number, so its
	// catch-all strict rule does not fire and the gateway gets the request.
	if res := alice.message(t, n, "alice", "+15550100;user=phone", "pw-alice"); res.StatusCode != 200 {
		t.Fatalf("strict-routed request reached a non-strict app: %d", res.StatusCode)
	}
	// The archive, after the router, recorded the relayed message.
	r, _ := http.NewRequest("GET", n.admin+"/v1/archive?user=bob", nil)
	r.Header.Set("Authorization", "Bearer test-token")
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var search struct {
		Entries []struct{ From, To, Body string }
	}
	if err := json.Unmarshal(body, &search); err != nil || len(search.Entries) == 0 || search.Entries[0].From != "alice@localhost" || !strings.HasPrefix(search.Entries[0].Body, "hello") {
		t.Fatalf("archive: %s %v", body, err)
	}
}
