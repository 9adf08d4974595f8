package xcap

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parley-rtc/parley/core/auth"
)

// passwords of the test users, by user@realm.
var passwords = map[string]string{
	"alice@localhost": "alice-secret",
	"bob@localhost":   "bob-secret",
}

func lookup(username, realm string, alg auth.Algorithm) (string, bool) {
	pw, ok := passwords[username+"@"+realm]
	if !ok {
		return "", false
	}
	return auth.HA1(alg, username, realm, pw), true
}

// newTestServer starts the handler on a loopback httptest server.
func newTestServer(t *testing.T, mutate ...func(*Config)) (*httptest.Server, Store) {
	t.Helper()
	store := NewMemStore()
	cfg := Config{
		Store:  store,
		Auth:   auth.NewAuthenticator(auth.Config{Secret: []byte("test secret")}),
		Lookup: lookup,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	srv := httptest.NewServer(NewHandler(cfg))
	t.Cleanup(srv.Close)
	return srv, store
}

// client is an XCAP client doing HTTP digest the way curl --digest does:
// answer a 401 and keep using the nonce with an increasing nonce-count.
type client struct {
	t          *testing.T
	base       string
	user, pass string
	alg        auth.Algorithm // preferred; "" takes the first challenge
	ch         *auth.Challenge
	nc         int
	uri        string // digest uri when not the request path
}

func newClient(t *testing.T, srv *httptest.Server, user string) *client {
	return &client{t: t, base: srv.URL, user: user, pass: passwords[user+"@localhost"]}
}

// response is a read response.
type response struct {
	status int
	header http.Header
	body   string
}

func (r response) etag() string { return r.header.Get("ETag") }

// do sends a request to path (below the server URL, escaped as given) and
// answers one digest challenge. Header pairs follow the body.
func (c *client) do(method, path, contentType, body string, header ...string) response {
	c.t.Helper()
	resp := c.send(method, path, contentType, body, header)
	if resp.status == http.StatusUnauthorized && c.pass != "" {
		c.pickChallenge(resp.header.Values("WWW-Authenticate"))
		resp = c.send(method, path, contentType, body, header)
	}
	return resp
}

func (c *client) pickChallenge(values []string) {
	c.t.Helper()
	for _, v := range values {
		ch, err := auth.ParseChallenge(v)
		if err != nil {
			c.t.Fatalf("bad challenge %q: %v", v, err)
		}
		if c.alg == "" || ch.Algorithm == c.alg {
			c.ch, c.nc = &ch, 0
			return
		}
	}
	c.t.Fatalf("no %s challenge in %q", c.alg, values)
}

func (c *client) send(method, path, contentType, body string, header []string) response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.URL.Opaque, _, _ = strings.Cut(path, "?") // keep the escaping as given
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	if c.ch != nil {
		c.nc++
		nc, cnonce := fmt.Sprintf("%08x", c.nc), fmt.Sprintf("c%d", c.nc)
		alg := c.ch.Algorithm
		ha1 := auth.HA1(alg, c.user, c.ch.Realm, c.pass)
		uri := path
		if c.uri != "" {
			uri = c.uri
		}
		resp := auth.Response(alg, ha1, method, uri, c.ch.Nonce, nc, cnonce, "auth")
		req.Header.Set("Authorization", fmt.Sprintf(
			`Digest username=%q, realm=%q, nonce=%q, uri=%q, response=%q, algorithm=%s, qop=auth, nc=%s, cnonce=%q`,
			c.user, c.ch.Realm, c.ch.Nonce, uri, resp, alg, nc, cnonce))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// expect fails the test unless r has the status.
func expect(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body:\n%s", what, r.status, status, r.body)
	}
}

// expectConflict fails unless r is a 409 whose xcap-error is cond.
func expectConflict(t *testing.T, what string, r response, cond string) {
	t.Helper()
	expect(t, what, r, http.StatusConflict)
	if ct := r.header.Get("Content-Type"); ct != xcapErrorMediaType {
		t.Fatalf("%s: Content-Type %q", what, ct)
	}
	if !strings.Contains(r.body, "<"+cond) {
		t.Fatalf("%s: want <%s> in\n%s", what, cond, r.body)
	}
}

func mustParse(t *testing.T, s string) *document {
	t.Helper()
	d, err := parseDocument([]byte(s))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, s)
	}
	return d
}

// sameXML compares two documents after parsing, ignoring the XML
// declaration.
func sameXML(a, b []byte) bool {
	da, err1 := parseDocument(a)
	db, err2 := parseDocument(b)
	return err1 == nil && err2 == nil && bytes.Equal(da.bytes(), db.bytes())
}
