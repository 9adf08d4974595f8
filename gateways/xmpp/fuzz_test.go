package xmpp

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
)

// FuzzSIPToJIDRoundTrip: whatever maps SIP -> JID maps back, and the
// result maps to the same JID again; where the user part is already in
// PRECIS's case-folded form, the SIP address comes back unchanged.
func FuzzSIPToJIDRoundTrip(f *testing.F) {
	for _, s := range []string{
		"sip:juliet@xmpp.example.net",
		"sip:d%27artagnan@example.com;gr=urn:uuid:1",
		"sip:a%5C20b@example.com",
		"sip:%C3%A9lo%C3%AFse@example.com",
		"sip:x%3Cy%3E@[::1]:5060",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		a, err := ParseSIPAddress(uri)
		if err != nil {
			return
		}
		j, err := a.JID()
		if err != nil {
			return
		}
		b, err := SIPFromJID(j)
		if err != nil {
			t.Fatalf("%q -> %s: back to SIP: %v", uri, j, err)
		}
		j2, err := b.JID()
		if err != nil {
			t.Fatalf("%q -> %s -> %s: %v", uri, j, b, err)
		}
		if !j2.Equal(j) {
			t.Fatalf("%q -> %s -> %s -> %s", uri, j, b, j2)
		}
		c, err := ParseSIPAddress(b.String())
		if err != nil || c != b {
			t.Fatalf("%s reparsed as %+v, %v", b, c, err)
		}
		if folded, err := precis.UsernameCaseMapped.String(a.User); err == nil && folded == a.User && b.User != a.User {
			t.Fatalf("user %q came back as %q", a.User, b.User)
		}
		if len(j.Localpart()) > MaxPartBytes || len(j.Resourcepart()) > MaxPartBytes {
			t.Fatalf("%s: part over the limit", j)
		}
	})
}

// FuzzUnescape: Unescape never panics, keeps valid UTF-8 valid, undoes
// Escape, and Escape of its result reads back the same.
func FuzzUnescape(f *testing.F) {
	for _, s := range []string{`\5c20`, `\20\22\26\27\2f\3a\3c\3e\40\5c`, `\`, `a\2`, `\\\\`, "\\\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u := Unescape(s)
		if utf8.ValidString(s) && !utf8.ValidString(u) {
			t.Fatalf("Unescape(%q) = %q: not UTF-8", s, u)
		}
		if got := Unescape(Escape(s)); got != s {
			t.Fatalf("Unescape(Escape(%q)) = %q", s, got)
		}
		if got := Unescape(Escape(u)); got != u {
			t.Fatalf("round trip of %q lost: %q", u, got)
		}
		if e := Escape(s); strings.ContainsAny(e, ` "&'/:<>@`) {
			t.Fatalf("Escape(%q) = %q keeps a forbidden character", s, e)
		}
	})
}

// FuzzHandleStanza: whatever the server sends, the handler neither
// panics nor returns an error (which would end the stream); a malformed
// message or IQ gets an error answer or none.
func FuzzHandleStanza(f *testing.F) {
	for _, s := range []string{
		`<message type="chat" from="juliet@xmpp.test/x" to="alice@gw.test" id="1"><body>hi</body><thread>t</thread></message>`,
		`<message type="error" from="juliet@xmpp.test" to="alice@gw.test" id="1"><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
		`<iq type="get" id="d" from="juliet@xmpp.test/x" to="gw.test"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
		`<presence from="juliet@xmpp.test/x" to="alice@gw.test"/>`,
	} {
		f.Add(s)
	}
	cfg := testConfig()
	cfg.Rate = 1e6
	f.Fuzz(func(t *testing.T, raw string) {
		g, _, _ := testGateway(t, cfg, 404)
		if _, err := handleRaw(g, raw); err != nil {
			t.Fatalf("%q: handler error %v", raw, err)
		}
	})
}

// FuzzChatStateFor: any isComposing body gives a chat state XEP-0085
// defines or an error wrapping ErrBadStanza, never a panic; what the
// gateway writes itself reads back.
func FuzzChatStateFor(f *testing.F) {
	f.Add(isComposingBody("composing"))
	f.Add(isComposingBody("paused"))
	f.Add([]byte(`<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>idle</state><lastactive>2026-12-07T20:00:00Z</lastactive></isComposing>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cs, err := chatStateFor(body)
		switch {
		case err != nil && !errors.Is(err, ErrBadStanza):
			t.Fatalf("error %v does not wrap ErrBadStanza", err)
		case err == nil && cs != "composing" && cs != "paused":
			t.Fatalf("state %q", cs)
		case err == nil:
			if back, err := chatStateFor(isComposingBody(cs)); err != nil || back != cs {
				t.Fatalf("%q reads back as %q, %v", cs, back, err)
			}
		}
	})
}
