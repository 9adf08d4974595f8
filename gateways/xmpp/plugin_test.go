package xmpp

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"mellium.im/xmlstream"

	"github.com/parley-rtc/parley/plugins/sdk"
	"github.com/parley-rtc/parley/plugins/sdk/sdktest"
)

// fakeLink records the stanzas the gateway sends outside a handler.
type fakeLink struct {
	mu   sync.Mutex
	up   bool
	sent []string
	got  chan string
}

func newFakeLink() *fakeLink { return &fakeLink{up: true, got: make(chan string, 16)} }

func (f *fakeLink) Send(_ context.Context, r xml.TokenReader) error {
	f.mu.Lock()
	up := f.up
	f.mu.Unlock()
	if !up {
		return ErrNotConnected
	}
	s, err := render(r)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.sent = append(f.sent, s)
	f.mu.Unlock()
	f.got <- s
	return nil
}

func (f *fakeLink) State() LinkState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return LinkState{Connected: f.up}
}

func (f *fakeLink) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-f.got:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no stanza sent")
		return ""
	}
}

// fakeHost answers SendRequest with code and records the requests.
type fakeHost struct {
	sdktest.MemHost
	code int
	reqs chan *sip.Request
}

func (h *fakeHost) SendRequest(_ context.Context, req *sip.Request, target string) (*sip.Response, error) {
	if target != "" {
		return nil, errors.New("want the SIP link")
	}
	select {
	case h.reqs <- req:
	default: // nobody looks (the fuzz target)
	}
	return sip.NewResponseFromRequest(req, h.code, "", nil), nil
}

func (h *fakeHost) next(t *testing.T) *sip.Request {
	t.Helper()
	select {
	case r := <-h.reqs:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no SIP request sent")
		return nil
	}
}

func render(r xml.TokenReader) (string, error) {
	var b bytes.Buffer
	e := xml.NewEncoder(&b)
	if _, err := xmlstream.Copy(e, r); err != nil {
		return "", err
	}
	err := e.Flush()
	return b.String(), err
}

func testConfig() Config {
	return Config{Component: "gw.test", Domains: []string{"xmpp.test"}, ReconnectMin: time.Second,
		ReconnectMax: 2 * time.Second, MaxMessageBytes: 100, Rate: 100}
}

func testGateway(t *testing.T, cfg Config, code int) (*Gateway, *fakeLink, *fakeHost) {
	g := NewGateway(slog.New(slog.NewTextHandler(io.Discard, nil)))
	link := newFakeLink()
	host := &fakeHost{code: code, reqs: make(chan *sip.Request, 16)}
	g.install(cfg, host, link)
	return g, link, host
}

func sipRequest(t *testing.T, raw string) *sdk.Request {
	t.Helper()
	m, err := sip.ParseMessage([]byte(strings.ReplaceAll(raw, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	return &sdk.Request{Request: m.(*sip.Request), Identity: "alice@gw.test"}
}

func message(ruri, extra, body string) string {
	return fmt.Sprintf("MESSAGE %s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\nFrom: <sip:alice@gw.test>;tag=a\nTo: <%s>\nCall-ID: cid-1@gw.test\nCSeq: 1 MESSAGE\nMax-Forwards: 70\n%sContent-Length: %d\n\n%s",
		ruri, ruri, extra, len(body), body)
}

// TestMessageSIPToXMPP: our user's MESSAGE becomes a stanza, or the mapped
// answer when it cannot.
func TestMessageSIPToXMPP(t *testing.T) {
	for _, tc := range []struct {
		name, ruri, extra, body string
		down                    bool
		code                    int
		want                    []string // in the stanza
	}{
		{name: "chat", ruri: "sip:juliet@xmpp.test", extra: "Content-Type: text/plain;charset=UTF-8\nContent-Language: fr\n", body: "bonjour é ☃",
			code: 200, want: []string{`type="chat"`, `to="juliet@xmpp.test"`, `from="alice@gw.test"`, `xml:lang="fr"`, `<body>bonjour é ☃</body>`, `<thread>cid-1@gw.test</thread>`}},
		{name: "subject makes normal", ruri: "sip:juliet@xmpp.test", extra: "Content-Type: text/plain\nSubject: hi <there>\n", body: "b",
			code: 200, want: []string{`type="normal"`, `<subject>hi &lt;there&gt;</subject>`}},
		{name: "escaped", ruri: "sip:juliet%20smith@xmpp.test", extra: "Content-Type: text/plain\n", body: "x",
			code: 200, want: []string{`to="juliet\20smith@xmpp.test"`}},
		{name: "gruu to resource", ruri: "sip:juliet@xmpp.test;gr=balcony", extra: "Content-Type: text/plain\n", body: "x",
			code: 200, want: []string{`to="juliet@xmpp.test/balcony"`}},
		{name: "no user", ruri: "sip:xmpp.test", body: "x", code: 404},
		{name: "unmappable", ruri: "sip:%20juliet@xmpp.test", body: "x", code: 404},
		{name: "oversized", ruri: "sip:juliet@xmpp.test", body: strings.Repeat("x", 101), code: 413},
		{name: "html", ruri: "sip:juliet@xmpp.test", extra: "Content-Type: text/html\n", body: "<b>x</b>", code: 415},
		{name: "not utf-8", ruri: "sip:juliet@xmpp.test", body: "\xff", code: 400},
		{name: "link down", ruri: "sip:juliet@xmpp.test", body: "x", down: true, code: 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, link, _ := testGateway(t, testConfig(), 200)
			link.up = !tc.down
			v := g.Handle(context.Background(), sipRequest(t, message(tc.ruri, tc.extra, tc.body)))
			if code := v.Proto().GetCode(); int(code) != tc.code {
				t.Fatalf("verdict %+v, want %d", v, tc.code)
			}
			if tc.code == 503 && !hasHeader(v, "Retry-After") {
				t.Fatalf("503 without Retry-After: %+v", v)
			}
			if tc.code != 200 {
				if len(link.sent) != 0 {
					t.Fatalf("sent %q", link.sent)
				}
				return
			}
			s := link.next(t)
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("stanza %s lacks %s", s, w)
				}
			}
		})
	}
}

// TestSIPToXMPPOthersContinue: not a MESSAGE, or not for an XMPP domain.
func TestSIPToXMPPOthersContinue(t *testing.T) {
	g, _, _ := testGateway(t, testConfig(), 200)
	v := g.Handle(context.Background(), sipRequest(t, message("sip:bob@gw.test", "", "x")))
	if v.Proto().GetAction() != sdk.Continue().Proto().GetAction() {
		t.Fatalf("verdict %+v", v)
	}
}

// TestLateErrorIMDN: an error stanza for a message already answered 200
// becomes an IMDN failure notification to the SIP sender.
func TestLateErrorIMDN(t *testing.T) {
	g, link, host := testGateway(t, testConfig(), 200)
	if v := g.Handle(context.Background(), sipRequest(t, message("sip:nobody@xmpp.test", "", "x"))); v.Proto().GetCode() != 200 {
		t.Fatalf("verdict %+v", v)
	}
	s := link.next(t)
	_, id, _ := strings.Cut(s, `id="`)
	id, _, _ = strings.Cut(id, `"`)
	reply := fmt.Sprintf(`<message xmlns="jabber:component:accept" type="error" id=%q from="nobody@xmpp.test" to="alice@gw.test"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`, id)
	if out := handle(t, g, reply); out != "" {
		t.Fatalf("answered an error with %s", out)
	}
	req := host.next(t)
	if req.Recipient.String() != "sip:alice@gw.test" || req.From().Address.String() != "sip:nobody@xmpp.test" {
		t.Fatalf("IMDN %s from %s", req.Recipient.String(), req.From().Address.String())
	}
	body := string(req.Body())
	for _, w := range []string{"<message-id>cid-1@gw.test</message-id>", "<failed/>", "urn:ietf:params:xml:ns:imdn"} {
		if !strings.Contains(body, w) {
			t.Errorf("IMDN body lacks %s:\n%s", w, body)
		}
	}
	if ct := req.GetHeader("Content-Type").Value(); ct != "message/imdn+xml" {
		t.Errorf("Content-Type %s", ct)
	}
	if r := req.GetHeader("Reason").Value(); !strings.Contains(r, "cause=403") {
		t.Errorf("Reason %s, want the RFC 7247 mapping of service-unavailable (403)", r)
	}
	// The same error again: the message is no longer pending.
	handle(t, g, reply)
	select {
	case r := <-host.reqs:
		t.Fatalf("second IMDN %v", r)
	case <-time.After(50 * time.Millisecond):
	}
}

// handle runs one stanza through HandleXMPP as the link would, and
// returns what the handler wrote.
func handle(t testing.TB, g *Gateway, raw string) string {
	t.Helper()
	out, err := handleRaw(g, raw)
	if err != nil {
		t.Fatalf("handler: %v", err)
	}
	return out
}

type tokenRW struct {
	xml.TokenReader
	*xml.Encoder
}

func handleRaw(g *Gateway, raw string) (string, error) {
	d := xml.NewDecoder(strings.NewReader(raw))
	var start xml.StartElement
	for {
		tok, err := d.Token()
		if err != nil {
			return "", nil // not a stanza: the session would not call the handler
		}
		if s, ok := tok.(xml.StartElement); ok {
			start = s.Copy()
			break
		}
	}
	var b bytes.Buffer
	e := xml.NewEncoder(&b)
	if err := g.HandleXMPP(tokenRW{xmlstream.InnerElement(d), e}, &start); err != nil {
		return "", err
	}
	err := e.Flush()
	return b.String(), err
}

const fromJuliet = `from="juliet@xmpp.test/balcony" to="alice@gw.test"`

// TestMessageXMPPToSIP: a message to one of our users becomes a MESSAGE over the
// SIP link; its refusal comes back as the mapped stanza error.
func TestMessageXMPPToSIP(t *testing.T) {
	for _, tc := range []struct {
		code int
		cond string
	}{{200, ""}, {404, "item-not-found"}, {480, "recipient-unavailable"}, {503, "internal-server-error"}, {603, "service-unavailable"}} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			g, link, host := testGateway(t, testConfig(), tc.code)
			out := handle(t, g, `<message xmlns="jabber:component:accept" id="m1" type="chat" xml:lang="de" `+fromJuliet+`><subject>S</subject><body>grüß dich ☃</body><thread>th-1</thread></message>`)
			if out != "" {
				t.Fatalf("immediate answer %s", out)
			}
			req := host.next(t)
			checks := map[string]string{
				"Request-URI": req.Recipient.String(), "From": req.From().Address.String(), "Call-ID": req.CallID().Value(),
				"Subject": req.GetHeader("Subject").Value(), "Content-Language": req.GetHeader("Content-Language").Value(),
				"Content-Type": req.GetHeader("Content-Type").Value(), "body": string(req.Body()),
			}
			for k, want := range map[string]string{"Request-URI": "sip:alice@gw.test", "From": "sip:juliet@xmpp.test", "Call-ID": "th-1",
				"Subject": "S", "Content-Language": "de", "Content-Type": "text/plain;charset=UTF-8", "body": "grüß dich ☃"} {
				if checks[k] != want {
					t.Errorf("%s = %q, want %q", k, checks[k], want)
				}
			}
			if tc.cond == "" {
				select {
				case s := <-link.got:
					t.Fatalf("answered a delivered message: %s", s)
				case <-time.After(50 * time.Millisecond):
				}
				return
			}
			s := link.next(t)
			for _, w := range []string{`type="error"`, `id="m1"`, `from="alice@gw.test"`, `to="juliet@xmpp.test/balcony"`, "<" + tc.cond + " "} {
				if !strings.Contains(s, w) {
					t.Errorf("error stanza %s lacks %s", s, w)
				}
			}
		})
	}
}

// TestXMPPToSIPEscaped: XEP-0106 escapes become the SIP user part.
func TestXMPPToSIPEscaped(t *testing.T) {
	g, _, host := testGateway(t, testConfig(), 200)
	handle(t, g, `<message type="chat" from="juliet\20smith@xmpp.test/x" to="d\27artagnan@gw.test"><body>x</body></message>`)
	req := host.next(t)
	if f, r := req.From().Address.String(), req.Recipient.String(); f != "sip:juliet%20smith@xmpp.test" || r != "sip:d'artagnan@gw.test" {
		t.Fatalf("From %s, Request-URI %s", f, r)
	}
	if cid := req.CallID().Value(); cid == "" {
		t.Fatal("no Call-ID")
	}
}

// TestXMPPImmediateErrors: what the handler answers itself.
func TestXMPPImmediateErrors(t *testing.T) {
	cfg := testConfig()
	cfg.Rate = 1
	for _, tc := range []struct{ name, stanza, want string }{
		{"bad to", `<message type="chat" from="juliet@xmpp.test/x" to="a@b@c"><body>x</body></message>`, "<bad-request "},
		{"oversized", `<message type="chat" ` + fromJuliet + `><body>` + strings.Repeat("x", 101) + `</body></message>`, "<policy-violation "},
		{"huge", `<message type="chat" ` + fromJuliet + `><body>` + strings.Repeat("x", 1000) + `</body></message>`, "<policy-violation "},
		{"other domain", `<message type="chat" from="eve@evil.test/x" to="alice@gw.test"><body>x</body></message>`, "<not-allowed "},
		{"not ours", `<message type="chat" from="juliet@xmpp.test/x" to="alice@elsewhere.test"><body>x</body></message>`, "<item-not-found "},
		{"no body", `<message type="chat" ` + fromJuliet + `><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`, ""},
		{"groupchat", `<message type="groupchat" ` + fromJuliet + `><body>x</body></message>`, ""},
		{"error unknown", `<message type="error" ` + fromJuliet + `><error type="cancel"><gone xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, _, _ := testGateway(t, cfg, 200)
			out := handle(t, g, tc.stanza)
			if tc.want == "" && out != "" || !strings.Contains(out, tc.want) {
				t.Fatalf("answer %q, want %q", out, tc.want)
			}
			if tc.want != "" && !strings.Contains(out, `type="error"`) {
				t.Fatalf("answer %q is not an error", out)
			}
		})
	}
	t.Run("rate", func(t *testing.T) {
		g, _, host := testGateway(t, cfg, 200)
		now := time.Unix(1000, 0)
		g.mu.Lock()
		g.limits = newRateLimiter(1, func() time.Time { return now })
		g.mu.Unlock()
		st := `<message type="chat" ` + fromJuliet + `><body>x</body></message>`
		if out := handle(t, g, st); out != "" {
			t.Fatalf("first: %s", out)
		}
		host.next(t)
		if out := handle(t, g, strings.Replace(st, "balcony", "phone", 1)); !strings.Contains(out, "<resource-constraint ") || !strings.Contains(out, `type="wait"`) {
			t.Fatalf("second within the second: %s", out)
		}
		now = now.Add(time.Second)
		if out := handle(t, g, st); out != "" {
			t.Fatalf("after a second: %s", out)
		}
	})
}

// TestIQ: disco#info, ping, version; anything else service-unavailable.
func TestIQ(t *testing.T) {
	g, _, _ := testGateway(t, testConfig(), 200)
	for _, tc := range []struct {
		name, iq string
		want     []string
	}{
		{"disco", `<iq type="get" id="d1" from="juliet@xmpp.test/x" to="gw.test"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
			[]string{`type="result"`, `id="d1"`, `from="gw.test"`, `to="juliet@xmpp.test/x"`, `category="gateway" type="sip"`, `var="urn:xmpp:ping"`, `var="jabber:iq:version"`}},
		{"ping", `<iq type="get" id="p1" from="juliet@xmpp.test/x" to="alice@gw.test"><ping xmlns="urn:xmpp:ping"/></iq>`,
			[]string{`type="result"`, `id="p1"`, `from="alice@gw.test"`}},
		{"version", `<iq type="get" id="v1" from="juliet@xmpp.test/x" to="gw.test"><query xmlns="jabber:iq:version"/></iq>`,
			[]string{`type="result"`, "<name>Parley XMPP gateway</name>", "<version>" + Version + "</version>"}},
		{"other", `<iq type="set" id="o1" from="juliet@xmpp.test/x" to="gw.test"><query xmlns="jabber:iq:roster"/></iq>`,
			[]string{`type="error"`, `id="o1"`, `from="gw.test"`, "<service-unavailable "}},
		{"empty", `<iq type="get" id="e1" from="juliet@xmpp.test/x" to="gw.test"></iq>`, []string{`type="error"`, "<service-unavailable "}},
		{"bad from", `<iq type="get" id="b1" from="a@b@c" to="gw.test"><ping xmlns="urn:xmpp:ping"/></iq>`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := handle(t, g, tc.iq)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("answer %s lacks %s", out, w)
				}
			}
		})
	}
	if out := handle(t, g, `<iq type="result" id="r1" from="juliet@xmpp.test/x" to="gw.test"/>`); out != "" {
		t.Fatalf("answered a result: %s", out)
	}
}

// TestAppClaims: the plugin claims *@ each XMPP domain once configured,
// and is a singleton.
func TestAppClaims(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := NewGateway(slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(g.Close)
	app := g.App()
	if !app.Singleton || app.Inline {
		t.Fatalf("app %+v", app)
	}
	p := sdktest.Start(t, app, map[string]string{"server": "127.0.0.1:1", "secret-file": secret, "domains": "xmpp.test,jabber.test"}, nil)
	if got := strings.Join(p.Claims, ","); got != "*@xmpp.test,*@jabber.test" {
		t.Fatalf("claims %s", got)
	}
	if err := g.Health(context.Background()); err == nil {
		t.Fatal("healthy without a link")
	}
}

func hasHeader(v sdk.Verdict, name string) bool {
	for _, h := range v.Proto().GetHeaders() {
		if h.GetName() == name && h.GetValue() != "" {
			return true
		}
	}
	return false
}
