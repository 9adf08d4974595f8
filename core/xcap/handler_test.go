package xcap

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-rtc/parley/core/auth"
)

const (
	aliceIndex = "/xcap-root/resource-lists/users/sip:alice@localhost/index"
	aliceRules = "/xcap-root/pres-rules/users/sip:alice@localhost/index"
	listsNS    = "?xmlns(rl=urn:ietf:params:xml:ns:resource-lists)"
)

const buddies = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">
  <list name="friends">
    <display-name>Friends</display-name>
    <entry uri="sip:bob@localhost">
      <display-name>Bob</display-name>
    </entry>
  </list>
  <list name="work"/>
</resource-lists>
`

func TestDocumentLifecycle(t *testing.T) {
	srv, _ := newTestServer(t)
	c := newClient(t, srv, "alice")

	expect(t, "GET before PUT", c.do("GET", aliceIndex, "", ""), http.StatusNotFound)
	put := c.do("PUT", aliceIndex, mediaResourceLists, buddies)
	expect(t, "PUT new", put, http.StatusCreated)
	if put.etag() == "" {
		t.Fatal("PUT without ETag")
	}
	get := c.do("GET", aliceIndex, "", "")
	expect(t, "GET", get, http.StatusOK)
	if get.body != buddies || get.etag() != put.etag() || get.header.Get("Content-Type") != mediaResourceLists {
		t.Fatalf("GET = %q %q %q", get.header.Get("Content-Type"), get.etag(), get.body)
	}
	// Same path, percent-encoded xui.
	enc := "/xcap-root/resource-lists/users/sip%3Aalice%40localhost/index"
	if g := c.do("GET", enc, "", ""); g.status != http.StatusOK || g.body != buddies {
		t.Fatalf("escaped GET: %d %q", g.status, g.body)
	}
	head := c.do("HEAD", aliceIndex, "", "")
	expect(t, "HEAD", head, http.StatusOK)
	if head.body != "" || head.etag() != put.etag() {
		t.Fatalf("HEAD: %q %q", head.etag(), head.body)
	}

	replaced := strings.Replace(buddies, "Bob", "Robert", 1)
	again := c.do("PUT", aliceIndex, mediaResourceLists+"; charset=utf-8", replaced)
	expect(t, "PUT replace", again, http.StatusOK)
	if again.etag() == put.etag() {
		t.Fatal("ETag did not change")
	}
	expect(t, "DELETE", c.do("DELETE", aliceIndex, "", ""), http.StatusOK)
	expect(t, "GET after DELETE", c.do("GET", aliceIndex, "", ""), http.StatusNotFound)
	expect(t, "DELETE again", c.do("DELETE", aliceIndex, "", ""), http.StatusNotFound)
}

func TestPreconditions(t *testing.T) {
	srv, _ := newTestServer(t)
	c := newClient(t, srv, "alice")

	expect(t, "If-Match on missing", c.do("PUT", aliceIndex, mediaResourceLists, buddies, "If-Match", "*"), http.StatusPreconditionFailed)
	first := c.do("PUT", aliceIndex, mediaResourceLists, buddies, "If-None-Match", "*")
	expect(t, "If-None-Match * create", first, http.StatusCreated)
	expect(t, "If-None-Match * again", c.do("PUT", aliceIndex, mediaResourceLists, buddies, "If-None-Match", "*"), http.StatusPreconditionFailed)
	tag := first.etag()

	expect(t, "GET If-None-Match", c.do("GET", aliceIndex, "", "", "If-None-Match", tag), http.StatusNotModified)
	expect(t, "GET If-None-Match weak", c.do("GET", aliceIndex, "", "", "If-None-Match", "W/"+tag), http.StatusNotModified)
	expect(t, "GET If-None-Match other", c.do("GET", aliceIndex, "", "", "If-None-Match", `"nope"`), http.StatusOK)
	expect(t, "GET If-Match other", c.do("GET", aliceIndex, "", "", "If-Match", `"nope"`), http.StatusPreconditionFailed)

	second := c.do("PUT", aliceIndex, mediaResourceLists, buddies, "If-Match", `"nope", `+tag)
	expect(t, "PUT If-Match list", second, http.StatusOK)
	expect(t, "PUT stale If-Match", c.do("PUT", aliceIndex, mediaResourceLists, buddies, "If-Match", tag), http.StatusPreconditionFailed)
	expect(t, "weak If-Match never matches", c.do("PUT", aliceIndex, mediaResourceLists, buddies, "If-Match", "W/"+second.etag()), http.StatusPreconditionFailed)

	sel := aliceIndex + "/~~/resource-lists/list%5B@name=%22work%22%5D/entry%5B@uri=%22sip:carol@localhost%22%5D"
	expect(t, "element PUT stale", c.do("PUT", sel, mediaElement, `<entry uri="sip:carol@localhost"/>`, "If-Match", tag), http.StatusPreconditionFailed)
	third := c.do("PUT", sel, mediaElement, `<entry uri="sip:carol@localhost"/>`, "If-Match", second.etag())
	expect(t, "element PUT", third, http.StatusCreated)
	expect(t, "element GET If-None-Match", c.do("GET", sel, "", "", "If-None-Match", third.etag()), http.StatusNotModified)
	expect(t, "DELETE stale", c.do("DELETE", aliceIndex, "", "", "If-Match", second.etag()), http.StatusPreconditionFailed)
	expect(t, "DELETE", c.do("DELETE", aliceIndex, "", "", "If-Match", third.etag()), http.StatusOK)
}

func TestElementOperations(t *testing.T) {
	srv, store := newTestServer(t)
	c := newClient(t, srv, "alice")
	expect(t, "PUT", c.do("PUT", aliceIndex, mediaResourceLists, buddies), http.StatusCreated)

	friends := aliceIndex + `/~~/resource-lists/list%5B@name=%22friends%22%5D`
	carol := friends + `/entry%5B@uri=%22sip:carol@localhost%22%5D`

	// Add a contact to a list.
	add := c.do("PUT", carol, mediaElement, `<entry uri="sip:carol@localhost"><display-name>Carol</display-name></entry>`)
	expect(t, "add contact", add, http.StatusCreated)
	get := c.do("GET", carol, "", "")
	expect(t, "GET contact", get, http.StatusOK)
	if want := `<entry uri="sip:carol@localhost"><display-name>Carol</display-name></entry>`; get.body != want ||
		get.header.Get("Content-Type") != mediaElement || get.etag() != add.etag() {
		t.Fatalf("GET contact: %q %q %q", get.header.Get("Content-Type"), get.etag(), get.body)
	}
	body, _, err := store.Get(t.Context(), AUIDResourceLists, "sip:alice@localhost", "index")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ParseResourceLists(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[1].URI != "sip:carol@localhost" || entries[1].DisplayName != "Carol" ||
		len(entries[1].Groups) != 1 || entries[1].Groups[0] != "friends" {
		t.Fatalf("entries after add: %+v", entries)
	}

	// Replace it (same URI, new display name): 200.
	expect(t, "replace contact", c.do("PUT", carol, mediaElement, `<entry uri="sip:carol@localhost"><display-name>Caroline</display-name></entry>`), http.StatusOK)
	// Positional selectors and attribute selectors.
	second := c.do("GET", friends+"/entry%5B2%5D/display-name", "", "")
	if second.status != http.StatusOK || second.body != "<display-name>Caroline</display-name>" {
		t.Fatalf("entry[2]/display-name: %d %q", second.status, second.body)
	}
	attr := c.do("GET", friends+"/entry%5B1%5D/@uri", "", "")
	if attr.status != http.StatusOK || attr.body != "sip:bob@localhost" || attr.header.Get("Content-Type") != mediaAttribute {
		t.Fatalf("@uri: %d %q", attr.status, attr.body)
	}
	expect(t, "GET two entries", c.do("GET", friends+"/entry", "", ""), http.StatusNotFound)
	ns := c.do("GET", friends+"/namespace::*", "", "")
	if ns.status != http.StatusOK || ns.body != `<list xmlns="urn:ietf:params:xml:ns:resource-lists"/>` {
		t.Fatalf("namespace::*: %d %q", ns.status, ns.body)
	}
	expect(t, "PUT namespace::*", c.do("PUT", friends+"/namespace::*", mediaElement, "<x/>"), http.StatusMethodNotAllowed)
	// Prefixed names bound in the query.
	prefixed := aliceIndex + `/~~/rl:resource-lists/rl:list%5B@name=%22friends%22%5D/rl:display-name` + listsNS
	if g := c.do("GET", prefixed, "", ""); g.status != http.StatusOK || g.body != "<display-name>Friends</display-name>" {
		t.Fatalf("prefixed GET: %d %q", g.status, g.body)
	}
	expect(t, "unbound prefix", c.do("GET", aliceIndex+`/~~/x:resource-lists`, "", ""), http.StatusBadRequest)

	// Attribute PUT and DELETE.
	expect(t, "set list name", c.do("PUT", aliceIndex+`/~~/resource-lists/list%5B2%5D/@name`, mediaAttribute, "colleagues"), http.StatusOK)
	expect(t, "add attribute", c.do("PUT", carol+"/@note", mediaAttribute, "met &amp; liked"), http.StatusCreated)
	if g := c.do("GET", carol+"/@note", "", ""); g.body != "met &amp; liked" {
		t.Fatalf("@note = %q", g.body)
	}
	expect(t, "delete attribute", c.do("DELETE", carol+"/@note", "", ""), http.StatusOK)
	expect(t, "deleted attribute", c.do("GET", carol+"/@note", "", ""), http.StatusNotFound)

	// Remove the contact.
	expect(t, "remove contact", c.do("DELETE", carol, "", ""), http.StatusOK)
	expect(t, "removed", c.do("GET", carol, "", ""), http.StatusNotFound)
	expect(t, "remove again", c.do("DELETE", carol, "", ""), http.StatusNotFound)
	final := c.do("GET", aliceIndex, "", "")
	want := strings.Replace(buddies, `<list name="work"/>`, `<list name="colleagues"/>`, 1)
	if !sameXML([]byte(final.body), []byte(want)) {
		t.Fatalf("document after add and remove:\n%s\nwant\n%s", final.body, want)
	}

	// Insert into an empty list, by position.
	expect(t, "insert entry[1]", c.do("PUT", aliceIndex+`/~~/resource-lists/list%5B2%5D/entry%5B1%5D`, mediaElement, `<entry uri="sip:dave@localhost"/>`), http.StatusCreated)
	expect(t, "insert list", c.do("PUT", aliceIndex+`/~~/resource-lists/list%5B@name=%22family%22%5D`, mediaElement, `<list name="family"/>`), http.StatusCreated)
	entries = mustEntries(t, c.do("GET", aliceIndex, "", "").body)
	if len(entries) != 2 || entries[1].URI != "sip:dave@localhost" || entries[1].Groups[0] != "colleagues" {
		t.Fatalf("entries: %+v", entries)
	}
}

func mustEntries(t *testing.T, body string) []Entry {
	t.Helper()
	e, err := ParseResourceLists([]byte(body))
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	return e
}

func TestConflicts(t *testing.T) {
	srv, _ := newTestServer(t)
	c := newClient(t, srv, "alice")
	friends := aliceIndex + `/~~/resource-lists/list%5B@name=%22friends%22%5D`

	for _, tc := range []struct {
		name, body, cond string
	}{
		{"not well formed", `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list>`, condNotWellFormed},
		{"DTD", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">&lol;</resource-lists>`, condNotWellFormed},
		{"wrong root", `<ruleset xmlns="urn:ietf:params:xml:ns:common-policy"/>`, condSchema},
		{"wrong namespace", `<resource-lists xmlns="urn:example"/>`, condSchema},
		{"entry without uri", `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list><entry/></list></resource-lists>`, condSchema},
		{"duplicate entry", `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="a"><entry uri="sip:x@y"/><entry uri="sip:x@y"/></list></resource-lists>`, condUniqueness},
		{"duplicate list", `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="a"/><list name="a"/></resource-lists>`, condUniqueness},
		{"latin-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"/>", condNotUTF8},
		{"invalid utf-8", "<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list name=\"\xff\"/></resource-lists>", condNotUTF8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectConflict(t, tc.name, c.do("PUT", aliceIndex, mediaResourceLists, tc.body), tc.cond)
		})
	}
	expectConflict(t, "element PUT without document", c.do("PUT", friends+"/entry", mediaElement, `<entry uri="sip:x@y"/>`), condNoParent)

	expect(t, "PUT", c.do("PUT", aliceIndex, mediaResourceLists, buddies), http.StatusCreated)
	for _, tc := range []struct {
		name, method, path, body, cond string
	}{
		{"duplicate contact", "PUT", friends + `/entry%5B@uri=%22sip:dup@localhost%22%5D`, `<entry uri="sip:bob@localhost"/>`, condCannotInsert},
		{"uniqueness", "PUT", friends + `/entry%5B2%5D`, `<entry uri="sip:bob@localhost"/>`, condUniqueness},
		{"body not selected", "PUT", friends + `/entry%5B@uri=%22sip:carol@localhost%22%5D`, `<entry uri="sip:dave@localhost"/>`, condCannotInsert},
		{"two elements", "PUT", friends + `/entry%5B2%5D`, `<entry uri="sip:a@b"/><entry uri="sip:c@d"/>`, condNotFragment},
		{"text body", "PUT", friends + `/entry%5B2%5D`, `hello`, condNotFragment},
		{"no parent", "PUT", aliceIndex + `/~~/resource-lists/list%5B@name=%22nope%22%5D/entry`, `<entry uri="sip:a@b"/>`, condNoParent},
		{"second root", "PUT", aliceIndex + `/~~/other`, `<other/>`, condCannotInsert},
		{"schema after insert", "PUT", friends + `/bogus`, `<bogus/>`, condSchema},
		{"bad attribute value", "PUT", friends + `/@name`, `a<b`, condNotAttValue},
		{"rename selected", "PUT", friends + `/@name`, `enemies`, condCannotInsert},
		{"delete root", "DELETE", aliceIndex + `/~~/resource-lists`, "", condCannotDelete},
		{"delete shifts position", "DELETE", aliceIndex + `/~~/resource-lists/list%5B1%5D`, "", condCannotDelete},
		{"delete required attribute", "DELETE", friends + `/entry/@uri`, "", condSchema},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := ""
			switch {
			case strings.Contains(tc.path, "/@"):
				ct = mediaAttribute
			case tc.method == "PUT":
				ct = mediaElement
			}
			expectConflict(t, tc.name, c.do(tc.method, tc.path, ct, tc.body), tc.cond)
		})
	}
	noParent := c.do("PUT", aliceIndex+`/~~/resource-lists/list%5B@name=%22friends%22%5D/list%5B@name=%22x%22%5D/entry`, mediaElement, `<entry uri="sip:a@b"/>`)
	if want := "<ancestor>" + srv.URL + aliceIndex + `/~~/resource-lists/list%5B@name=%22friends%22%5D</ancestor>`; !strings.Contains(noParent.body, want) {
		t.Fatalf("no-parent body:\n%s\nwant %s", noParent.body, want)
	}
	// The failed writes left the document alone.
	if g := c.do("GET", aliceIndex, "", ""); g.body != buddies {
		t.Fatalf("document changed:\n%s", g.body)
	}
}

func TestHTTPErrors(t *testing.T) {
	srv, _ := newTestServer(t, func(c *Config) { c.MaxBody = 1024 })
	c := newClient(t, srv, "alice")
	expect(t, "wrong media type", c.do("PUT", aliceIndex, "application/xml", buddies), http.StatusUnsupportedMediaType)
	expect(t, "element media type", c.do("PUT", aliceIndex+"/~~/resource-lists/list", mediaResourceLists, "<list/>"), http.StatusUnsupportedMediaType)
	expect(t, "pres-rules media type", c.do("PUT", aliceRules, mediaResourceLists, string(ComposePresRules(Rules{Allow: []string{"sip:bob@localhost"}}))), http.StatusUnsupportedMediaType)
	expect(t, "too large", c.do("PUT", aliceIndex, mediaResourceLists, strings.Repeat(" ", 2000)+buddies), http.StatusRequestEntityTooLarge)
	post := c.do("POST", aliceIndex, mediaResourceLists, buddies)
	expect(t, "POST", post, http.StatusMethodNotAllowed)
	if post.header.Get("Allow") != "GET, HEAD, PUT, DELETE" {
		t.Fatalf("Allow: %q", post.header.Get("Allow"))
	}
	for _, p := range []string{
		"/xcap-root/", "/xcap-root/unknown/users/sip:alice@localhost/index", "/elsewhere",
		"/xcap-root/resource-lists/users/sip:alice@localhost/", "/xcap-root/resource-lists/global/index",
		"/xcap-root/resource-lists/users/sip:alice@localhost/../index", "/xcap-root/resource-lists/users/tel:+123/index",
	} {
		expect(t, p, c.do("GET", p, "", ""), http.StatusNotFound)
	}
	expect(t, "bad selector", c.do("GET", aliceIndex+"/~~/resource-lists/list%5B", "", ""), http.StatusBadRequest)
	expect(t, "bad query", c.do("GET", aliceIndex+"/~~/resource-lists?foo", "", ""), http.StatusBadRequest)
}

func TestAuthorization(t *testing.T) {
	srv, _ := newTestServer(t)
	alice := newClient(t, srv, "alice")
	bob := newClient(t, srv, "bob")
	expect(t, "alice PUT", alice.do("PUT", aliceIndex, mediaResourceLists, buddies), http.StatusCreated)

	bobIndex := "/xcap-root/resource-lists/users/sip:bob@localhost/index"
	expect(t, "bob reads alice", bob.do("GET", aliceIndex, "", ""), http.StatusForbidden)
	expect(t, "bob writes alice", bob.do("PUT", aliceIndex, mediaResourceLists, buddies), http.StatusForbidden)
	expect(t, "bob deletes alice", bob.do("DELETE", aliceIndex, "", ""), http.StatusForbidden)
	expect(t, "bob writes his own", bob.do("PUT", bobIndex, mediaResourceLists, buddies), http.StatusCreated)
	expect(t, "alice reads bob", alice.do("GET", bobIndex, "", ""), http.StatusForbidden)
	// Same user name in another domain is someone else.
	expect(t, "alice elsewhere", alice.do("GET", "/xcap-root/resource-lists/users/sip:alice@example.com/index", "", ""), http.StatusUnauthorized)

	anon := newClient(t, srv, "mallory")
	r := anon.do("GET", aliceIndex, "", "")
	expect(t, "anonymous", r, http.StatusUnauthorized)
	ch := r.header.Values("WWW-Authenticate")
	if len(ch) != 2 || !strings.Contains(ch[0], `realm="localhost"`) || !strings.Contains(ch[0], "SHA-256") || !strings.Contains(ch[1], "MD5") {
		t.Fatalf("challenges: %q", ch)
	}
	wrong := newClient(t, srv, "alice")
	wrong.pass = "guess"
	expect(t, "wrong password", wrong.do("GET", aliceIndex, "", ""), http.StatusUnauthorized)

	md5 := newClient(t, srv, "alice")
	md5.alg = "MD5"
	expect(t, "MD5", md5.do("GET", aliceIndex, "", ""), http.StatusOK)
	expect(t, "nonce reuse with next nc", md5.do("GET", aliceIndex, "", ""), http.StatusOK)
	md5.nc-- // replay the previous nonce-count
	r = md5.send("GET", aliceIndex, "", "", nil)
	expect(t, "replayed nc", r, http.StatusUnauthorized)
	if !strings.Contains(r.header.Get("WWW-Authenticate"), "stale=true") {
		t.Fatalf("replay challenge without stale: %q", r.header.Values("WWW-Authenticate"))
	}

	// Credentials computed for one URI do not open another.
	md5.nc += 5
	md5.uri = aliceRules
	expect(t, "digest uri of another resource", md5.send("GET", aliceIndex, "", "", nil), http.StatusBadRequest)
	md5.uri = srv.URL + aliceIndex // absolute form names the same resource
	expect(t, "absolute digest uri", md5.send("GET", aliceIndex, "", "", nil), http.StatusOK)

	caps := bob.do("GET", "/xcap-root/xcap-caps/global/index", "", "")
	expect(t, "xcap-caps", caps, http.StatusOK)
	if caps.header.Get("Content-Type") != mediaXCAPCaps || !strings.Contains(caps.body, "<auid>pres-rules</auid>") {
		t.Fatalf("xcap-caps: %q\n%s", caps.header.Get("Content-Type"), caps.body)
	}
	expect(t, "PUT xcap-caps", bob.do("PUT", "/xcap-root/xcap-caps/global/index", mediaXCAPCaps, caps.body), http.StatusMethodNotAllowed)
	auids := bob.do("GET", "/xcap-root/xcap-caps/global/index/~~/xcap-caps/auids/auid%5B3%5D", "", "")
	if auids.body != "<auid>pres-rules</auid>" {
		t.Fatalf("xcap-caps auid[3]: %q", auids.body)
	}
}

func TestPresRulesOverHTTP(t *testing.T) {
	srv, store := newTestServer(t)
	c := newClient(t, srv, "alice")
	example, err := os.ReadFile("testdata/rfc5025-example.xml")
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "PUT", c.do("PUT", aliceRules, mediaAuthPolicy, string(example)), http.StatusCreated)
	// Block bob: a new rule, inserted with a node selector.
	const cpNS = "?xmlns(cp=urn:ietf:params:xml:ns:common-policy)"
	rule := aliceRules + `/~~/cp:ruleset/cp:rule%5B@id=%22blk%22%5D`
	body := `<cr:rule id="blk"><cr:conditions><cr:identity><cr:one id="sip:bob@localhost"/></cr:identity></cr:conditions>` +
		`<cr:actions><pr:sub-handling>block</pr:sub-handling></cr:actions></cr:rule>`
	expect(t, "add rule", c.do("PUT", rule+cpNS, mediaElement, body), http.StatusCreated)
	// Unprefixed names are in the pres-rules namespace (RFC 5025 9.4).
	expect(t, "unprefixed common-policy name", c.do("GET", aliceRules+`/~~/ruleset`, "", ""), http.StatusNotFound)
	sh := c.do("GET", rule+`/cp:actions/sub-handling`+cpNS, "", "")
	if sh.body != "<pr:sub-handling>block</pr:sub-handling>" {
		t.Fatalf("sub-handling: %d %q", sh.status, sh.body)
	}
	expectConflict(t, "bad sub-handling", c.do("PUT", rule+`/cp:actions/pr:sub-handling?xmlns(pr=urn:ietf:params:xml:ns:pres-rules)xmlns(cp=urn:ietf:params:xml:ns:common-policy)`,
		mediaElement, `<pr:sub-handling>maybe</pr:sub-handling>`), condSchema)
	expectConflict(t, "duplicate rule id", c.do("PUT", aliceRules+`/~~/cp:ruleset/cp:rule%5B3%5D`+cpNS, mediaElement, `<cr:rule id="a"/>`), condUniqueness)
	stored, _, err := store.Get(t.Context(), AUIDPresRules, "sip:alice@localhost", "index")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ParsePresRules(stored)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.Allow) != 1 || rules.Allow[0] != "sip:user@example.com" || len(rules.Block) != 1 || rules.Block[0] != "sip:bob@localhost" {
		t.Fatalf("rules: %+v", rules)
	}
}

func TestCustomRootAndRealm(t *testing.T) {
	srv, _ := newTestServer(t, func(c *Config) {
		c.Root = "/xcap/"
		c.Realm = func(xui string) string { return "localhost" }
	})
	c := newClient(t, srv, "alice")
	expect(t, "custom root", c.do("PUT", "/xcap/resource-lists/users/sip:alice@LOCALHOST:5060/index", mediaResourceLists, buddies), http.StatusCreated)
	expect(t, "canonical xui", c.do("GET", "/xcap/resource-lists/users/alice@localhost/index", "", ""), http.StatusOK)
	expect(t, "default root gone", c.do("GET", aliceIndex, "", ""), http.StatusNotFound)
}

func TestConcurrentElementWrites(t *testing.T) {
	srv, store := newTestServer(t)
	setup := newClient(t, srv, "alice")
	expect(t, "PUT", setup.do("PUT", aliceIndex, mediaResourceLists, buddies), http.StatusCreated)
	const writers, each = 4, 5
	errs := make(chan string, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(t, srv, "alice")
			for i := range each {
				uri := fmt.Sprintf("sip:w%d-%d@localhost", w, i)
				path := aliceIndex + `/~~/resource-lists/list%5B@name=%22work%22%5D/entry%5B@uri=%22` + uri + `%22%5D`
				for {
					r := c.do("PUT", path, mediaElement, `<entry uri="`+uri+`"/>`)
					if r.status == http.StatusServiceUnavailable {
						continue // the document kept changing: retry as a client would
					}
					if r.status != http.StatusCreated {
						errs <- fmt.Sprintf("%s: %d %s", uri, r.status, r.body)
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	body, _, err := store.Get(t.Context(), AUIDResourceLists, "sip:alice@localhost", "index")
	if err != nil {
		t.Fatal(err)
	}
	if entries := mustEntries(t, string(body)); len(entries) != 1+writers*each {
		t.Fatalf("%d entries after concurrent writes, want %d", len(entries), 1+writers*each)
	}
}

func TestDocumentCannotOutgrowMaxBody(t *testing.T) {
	srv, _ := newTestServer(t, func(c *Config) { c.MaxBody = 600 })
	c := newClient(t, srv, "alice")
	expect(t, "PUT", c.do("PUT", aliceIndex, mediaResourceLists, buddies), http.StatusCreated)
	long := strings.Repeat("x", 200)
	var last response
	for i := range 5 {
		uri := fmt.Sprintf("sip:%s%d@localhost", long, i)
		last = c.do("PUT", aliceIndex+`/~~/resource-lists/list%5B2%5D/entry%5B@uri=%22`+uri+`%22%5D`, mediaElement, `<entry uri="`+uri+`"/>`)
		if last.status != http.StatusCreated {
			break
		}
	}
	expectConflict(t, "growing past MaxBody", last, condConstraint)
}

func TestThrottle(t *testing.T) {
	srv, _ := newTestServer(t, func(c *Config) {
		c.Throttle = auth.NewThrottle(auth.ThrottleConfig{Threshold: 2, BaseDelay: 50 * time.Millisecond, MaxDelay: 50 * time.Millisecond})
	})
	c := newClient(t, srv, "alice")
	c.pass = "wrong"
	for range 2 {
		expect(t, "wrong password", c.do("GET", aliceIndex, "", ""), http.StatusUnauthorized)
	}
	start := time.Now()
	expect(t, "wrong password, throttled", c.do("GET", aliceIndex, "", ""), http.StatusUnauthorized)
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("answered after %v, want a delay", d)
	}
}

// refusingStore refuses every write the way a Store with its own checks
// would.
type refusingStore struct{ Store }

func (refusingStore) Put(context.Context, string, string, string, []byte, string, string) (string, bool, error) {
	return "", false, fmt.Errorf("%w: the store says no", ErrInvalidDocument)
}

func TestStoreRefusesDocument(t *testing.T) {
	srv, _ := newTestServer(t, func(c *Config) { c.Store = refusingStore{NewMemStore()} })
	c := newClient(t, srv, "alice")
	r := c.do("PUT", aliceIndex, mediaResourceLists, buddies)
	expectConflict(t, "store refuses", r, condConstraint)
	if !strings.Contains(r.body, "the store says no") {
		t.Fatalf("body %s", r.body)
	}
}
