//go:build interop

package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"regexp"
	"strings"
	"testing"
	"time"
)

// xcapClient talks to parleyd's XCAP server (RFC 4825) with HTTP digest
// (RFC 7616, MD5: the same credentials and realm as SIP), answering each
// 401 once.
type xcapClient struct {
	t              *testing.T
	base           string // http://127.0.0.1:PORT/xcap-root
	user, password string
	http           *http.Client
}

func (p *parleyd) xcap(t *testing.T, user, password string) *xcapClient {
	return &xcapClient{t: t, base: fmt.Sprintf("http://127.0.0.1:%d/xcap-root", p.xcapPort), user: user,
		password: password, http: &http.Client{Timeout: 10 * time.Second}}
}

// resourceListsPath is the path below the root of a user's contact list.
func resourceListsPath(user string) string {
	return fmt.Sprintf("/resource-lists/users/sip:%s@%s/index", user, domain)
}

// do sends a request (path below the root) and returns the final answer
// and its body.
func (x *xcapClient) do(method, path string, body []byte, header map[string]string) (*http.Response, []byte, error) {
	var auth string
	for round := 0; round < 2; round++ {
		req, err := http.NewRequest(method, x.base+path, bytes.NewReader(body))
		if err != nil {
			return nil, nil, err
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := x.http.Do(req)
		if err != nil {
			return nil, nil, err
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, nil, err
		}
		if res.StatusCode != http.StatusUnauthorized || round == 1 || x.user == "" {
			return res, b, nil
		}
		auth, err = digestAnswer(res.Header.Get("WWW-Authenticate"), method, req.URL.RequestURI(), x.user, x.password)
		if err != nil {
			return nil, nil, fmt.Errorf("WWW-Authenticate %q: %v", res.Header.Get("WWW-Authenticate"), err)
		}
	}
	panic("unreachable")
}

// expect runs do and fails the test unless the status is want.
func (x *xcapClient) expect(want int, method, path string, body []byte, header map[string]string) (*http.Response, []byte) {
	x.t.Helper()
	res, b, err := x.do(method, path, body, header)
	if err != nil {
		x.t.Fatalf("XCAP %s %s as %q: %v", method, path, x.user, err)
	}
	if res.StatusCode != want {
		x.t.Fatalf("XCAP %s %s as %q: want %d, got %s\n%s", method, path, x.user, want, res.Status, b)
	}
	return res, b
}

const resourceListsType = "application/resource-lists+xml"

// contactsDoc is a resource-lists document with the given entries, each
// "group/user" (display name: the user's name capitalised).
func contactsDoc(entries ...string) []byte {
	groups := map[string][]string{}
	var order []string
	for _, e := range entries {
		g, u, _ := strings.Cut(e, "/")
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], u)
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">` + "\n")
	for _, g := range order {
		fmt.Fprintf(&b, "  <list name=\"%s\">\n", g)
		for _, u := range groups[g] {
			fmt.Fprintf(&b, "    <entry uri=\"sip:%s@%s\">\n      <display-name>%s</display-name>\n    </entry>\n",
				u, domain, strings.ToUpper(u[:1])+u[1:])
		}
		b.WriteString("  </list>\n")
	}
	b.WriteString("</resource-lists>\n")
	return []byte(b.String())
}

// TestPresenceXcapContacts: alice PUTs her contact list over XCAP with
// digest, GETs it back byte for byte with the same ETag, and parleyctl
// shows the contact; conditional requests and other users' credentials
// are refused.
func TestPresenceXcapContacts(t *testing.T) {
	p := startParleyd(t)
	p.addUser("alice", "secret")
	p.addUser("bob", "secret")
	alice := p.xcap(t, "alice", "secret")
	path := resourceListsPath("alice")
	ct := map[string]string{"Content-Type": resourceListsType}

	if res, _, err := p.xcap(t, "", "").do("GET", path, nil, nil); err != nil || res.StatusCode != 401 ||
		!strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Digest ") || !strings.Contains(res.Header.Get("WWW-Authenticate"), `realm="localhost"`) {
		t.Fatalf("GET without credentials: want 401 with a Digest challenge, realm localhost; got %v %v", res, err)
	}
	alice.expect(404, "GET", path, nil, nil)

	doc := contactsDoc("friends/bob")
	res, _ := alice.expect(201, "PUT", path, doc, ct)
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("PUT answered without an ETag")
	}
	res, got := alice.expect(200, "GET", path, nil, nil)
	if !bytes.Equal(got, doc) {
		t.Errorf("GET returned another document:\n%s\nwant:\n%s", got, doc)
	}
	if res.Header.Get("ETag") != etag {
		t.Errorf("GET ETag %q, PUT said %q", res.Header.Get("ETag"), etag)
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != resourceListsType {
		t.Errorf("GET Content-Type %q, want %s", res.Header.Get("Content-Type"), resourceListsType)
	}
	alice.expect(304, "GET", path, nil, map[string]string{"If-None-Match": etag})
	alice.expect(412, "PUT", path, contactsDoc("friends/bob", "work/carol"), map[string]string{
		"Content-Type": resourceListsType, "If-Match": `"not-the-etag"`})
	p.xcap(t, "bob", "secret").expect(403, "GET", path, nil, nil)
	alice.expect(415, "PUT", path, doc, map[string]string{"Content-Type": "text/plain"})

	out, err := p.ctl("contacts", "list", "alice", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var contacts []struct {
		URI    string   `json:"uri"`
		Name   string   `json:"name"`
		Groups []string `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &contacts); err != nil {
		t.Fatalf("contacts list -o json: %v\n%s", err, out)
	}
	if len(contacts) != 1 || contacts[0].URI != "sip:bob@localhost" || contacts[0].Name != "Bob" ||
		len(contacts[0].Groups) != 1 || contacts[0].Groups[0] != "friends" {
		t.Errorf("parleyctl contacts list alice after the XCAP PUT = %+v, want bob (Bob) in friends", contacts)
	}

	// The other way: parleyctl edits show up in the XCAP document.
	if _, err := p.ctl("contacts", "add", "alice", "sip:carol@localhost", "--group", "work"); err != nil {
		t.Fatal(err)
	}
	res, got = alice.expect(200, "GET", path, nil, nil)
	if !strings.Contains(string(got), `uri="sip:carol@localhost"`) || !strings.Contains(string(got), `uri="sip:bob@localhost"`) {
		t.Errorf("after parleyctl contacts add, the XCAP document lacks carol or bob:\n%s", got)
	}
	if res.Header.Get("ETag") == etag {
		t.Errorf("the document changed but kept its ETag %s", etag)
	}
}

// rlmiNotify is one resource-list NOTIFY taken apart.
type rlmiNotify struct {
	msg   *sipMsg
	rlmi  string            // the application/rlmi+xml part
	pidfs map[string]string // resource URI -> its PIDF part
}

var (
	rlmiResourceRx = regexp.MustCompile(`(?s)<resource\s[^>]*uri="([^"]+)"[^>]*>(.*?)</resource>`)
	rlmiCidRx      = regexp.MustCompile(`cid="([^"]+)"`)
)

// parseRLMI checks the NOTIFY's multipart/related body (RFC 4662 5): root
// part RLMI, one part per resource instance with a body, by Content-ID.
func parseRLMI(m *sipMsg) (*rlmiNotify, error) {
	mt, params, err := mime.ParseMediaType(m.Header("Content-Type"))
	if err != nil || mt != "multipart/related" || params["type"] != "application/rlmi+xml" {
		return nil, fmt.Errorf("Content-Type %q is not multipart/related;type=\"application/rlmi+xml\" (%v)", m.Header("Content-Type"), err)
	}
	r := multipart.NewReader(strings.NewReader(m.Body), params["boundary"])
	parts := map[string]string{} // Content-ID without <> -> body
	var types []string
	n := &rlmiNotify{msg: m, pidfs: map[string]string{}}
	for i := 0; ; i++ {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("multipart body: %v", err)
		}
		b, _ := io.ReadAll(part)
		ctype := part.Header.Get("Content-Type")
		types = append(types, ctype)
		cid := strings.Trim(textproto.MIMEHeader(part.Header).Get("Content-ID"), "<>")
		if i == 0 {
			if !strings.HasPrefix(ctype, "application/rlmi+xml") {
				return nil, fmt.Errorf("first part is %q, not application/rlmi+xml", ctype)
			}
			if start := strings.Trim(params["start"], "<>"); start != "" && start != cid {
				return nil, fmt.Errorf("start=%q but the RLMI part's Content-ID is %q", start, cid)
			}
			n.rlmi = string(b)
			continue
		}
		parts[cid] = string(b)
	}
	for _, res := range rlmiResourceRx.FindAllStringSubmatch(n.rlmi, -1) {
		if c := rlmiCidRx.FindStringSubmatch(res[2]); c != nil {
			body, ok := parts[c[1]]
			if !ok {
				return nil, fmt.Errorf("RLMI names cid %s for %s but no part has it (parts %v)", c[1], res[1], types)
			}
			n.pidfs[res[1]] = body
		}
	}
	return n, nil
}

// waitList takes NOTIFYs of a list subscription until ok holds.
func (s *subscription) waitList(t *testing.T, what string, limit time.Duration, ok func(*rlmiNotify) bool) *rlmiNotify {
	t.Helper()
	var got *rlmiNotify
	_, err := s.waitFor(what, limit, func(m *sipMsg) bool {
		n, err := parseRLMI(m)
		if err != nil {
			t.Errorf("list NOTIFY: %v\n%s", err, m.Raw)
			return false
		}
		if ok(n) {
			got = n
			return true
		}
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestPresenceResourceList: alice's contact list, written over XCAP,
// becomes a resource list (RFC 4662) she subscribes to with Supported:
// eventlist at sip:alice+contacts@localhost (all contacts) or
// sip:alice+friends@localhost (one group): one NOTIFY with RLMI and a PIDF
// per contact, a new one when a contact's presence changes and when the
// list itself changes. Without eventlist: 421; someone else's list: 403.
func TestPresenceResourceList(t *testing.T) {
	p := startParleyd(t)
	for _, u := range []string{"alice", "bob", "carol"} {
		p.addUser(u, "secret")
	}
	x := p.xcap(t, "alice", "secret")
	_, _ = x.expect(201, "PUT", resourceListsPath("alice"), contactsDoc("friends/bob"),
		map[string]string{"Content-Type": resourceListsType})

	ua := newSipUA(t, p.sipAddr(), "alice", "secret")
	listURI := "sip:alice+contacts@" + domain
	accept := "Accept: application/pidf+xml, application/rlmi+xml, multipart/related"

	if _, res, err := ua.subscribe(listURI, "presence", 600, accept); err != nil || res.Code != 421 {
		t.Errorf("list SUBSCRIBE without Supported: eventlist: want 421, got %v %v", err, res)
	} else if !strings.Contains(res.Header("Require"), "eventlist") {
		t.Errorf("421 without Require: eventlist:\n%s", res.Raw)
	}
	bobUA := newSipUA(t, p.sipAddr(), "bob", "secret")
	if _, res, err := bobUA.subscribe(listURI, "presence", 600, accept, "Supported: eventlist"); err != nil || res.Code != 403 {
		t.Errorf("bob subscribing to alice's list: want 403, got %v %v", err, res)
	}

	sub, res, err := ua.subscribe(listURI, "presence", 600, accept, "Supported: eventlist")
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 200 {
		t.Fatalf("list SUBSCRIBE: want 200, got:\n%s", res.Raw)
	}
	if !strings.Contains(res.Header("Require"), "eventlist") {
		t.Errorf("list SUBSCRIBE 200 without Require: eventlist:\n%s", res.Raw)
	}
	hasState := func(uri, lvl string) func(*rlmiNotify) bool {
		return func(n *rlmiNotify) bool {
			return n.pidfs[uri] != "" && levelNamed(t, lvl).shows(n.pidfs[uri]) == ""
		}
	}
	first := sub.waitList(t, "bob offline", 5*time.Second, hasState("sip:bob@localhost", "offline"))
	if !strings.Contains(first.rlmi, `uri="`+listURI+`"`) || !strings.Contains(first.rlmi, `fullState="true"`) {
		t.Errorf("RLMI should name the list %s with fullState=\"true\":\n%s", listURI, first.rlmi)
	}
	if ss := first.msg.Header("Subscription-State"); !strings.HasPrefix(ss, "active") {
		t.Errorf("list NOTIFY Subscription-State %q", ss)
	}

	// bob comes online and publishes busy: the list NOTIFY follows.
	if res, err := bobUA.register(600); err != nil || res.Code != 200 {
		t.Fatalf("bob REGISTER: %v %v", err, res)
	}
	bobUA.mustPublish(levelNamed(t, "busy").pidf("bob"), "", 600)
	sub.waitList(t, "bob busy", 5*time.Second, hasState("sip:bob@localhost", "busy"))

	// The list changes over XCAP: carol appears (offline) beside bob.
	_, _ = x.expect(200, "PUT", resourceListsPath("alice"), contactsDoc("friends/bob", "work/carol"),
		map[string]string{"Content-Type": resourceListsType})
	sub.waitList(t, "carol added", 5*time.Second, func(n *rlmiNotify) bool {
		return hasState("sip:carol@localhost", "offline")(n) && hasState("sip:bob@localhost", "busy")(n)
	})

	// One group only.
	group := ua.mustSubscribe("sip:alice+work@"+domain, "presence", 600, accept, "Supported: eventlist")
	g := group.waitList(t, "carol in work", 5*time.Second, hasState("sip:carol@localhost", "offline"))
	if _, ok := g.pidfs["sip:bob@localhost"]; ok || strings.Contains(g.rlmi, "sip:bob@localhost") {
		t.Errorf("the work group's NOTIFY shows bob, who is only in friends:\n%s", g.rlmi)
	}
	if res, err := sub.refresh(0); err != nil || res.Code != 200 {
		t.Errorf("list unsubscribe: %v %v", err, res)
	}
}
