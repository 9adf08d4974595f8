package node

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-rtc/parley/core/auth"
)

const bobList = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">
  <list name="friends">
    <entry uri="sip:bob@localhost"><display-name>Bob</display-name></entry>
  </list>
</resource-lists>`

// xcapDo sends one XCAP request with HTTP digest, answering the challenge.
func xcapDo(t *testing.T, method, url, user, pw, ctype, body string) (*http.Response, string) {
	t.Helper()
	send := func(authz string) *http.Response {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := send("")
	if res.StatusCode != 401 {
		t.Fatalf("no challenge: %d", res.StatusCode)
	}
	res.Body.Close()
	uri := url[strings.Index(url[len("http://"):], "/")+len("http://"):]
	authz, err := auth.Answer(res.Header.Get("WWW-Authenticate"), method, uri, user, pw)
	if err != nil {
		t.Fatal(err)
	}
	res = send(authz)
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(data)
}

func TestNodeXcapContactListFeedsPresence(t *testing.T) {
	n := startNode(t)
	n.addUser(t, "alice", "pw-alice")
	n.addUser(t, "bob", "pw-bob")
	doc := n.xcap + "/xcap-root/resource-lists/users/sip:alice@localhost/index"
	res, _ := xcapDo(t, "PUT", doc, "alice", "pw-alice", "application/resource-lists+xml", bobList)
	if res.StatusCode != 201 || res.Header.Get("ETag") == "" {
		t.Fatalf("PUT: %d etag %q", res.StatusCode, res.Header.Get("ETag"))
	}
	res, body := xcapDo(t, "GET", doc, "alice", "pw-alice", "", "")
	if res.StatusCode != 200 || !strings.Contains(body, "sip:bob@localhost") {
		t.Fatalf("GET: %d\n%s", res.StatusCode, body)
	}
	// Bob may not write alice's list.
	if res, _ := xcapDo(t, "PUT", doc, "bob", "pw-bob", "application/resource-lists+xml", bobList); res.StatusCode != 403 {
		t.Fatalf("bob writing alice's list: %d", res.StatusCode)
	}
	req, _ := http.NewRequest("GET", n.admin+"/v1/users/alice/contacts", nil)
	req.Header.Set("Authorization", "Bearer test-token")
	ares, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got []struct {
		URI    string   `json:"uri"`
		Groups []string `json:"groups"`
	}
	err = json.NewDecoder(ares.Body).Decode(&got)
	ares.Body.Close()
	if err != nil || len(got) != 1 || got[0].URI != "sip:bob@localhost" || len(got[0].Groups) != 1 || got[0].Groups[0] != "friends" {
		t.Fatalf("admin contacts after XCAP PUT: %+v %v", got, err)
	}
}
