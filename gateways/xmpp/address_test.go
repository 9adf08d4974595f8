package xmpp

import (
	"errors"
	"strings"
	"testing"
)

func TestSIPToJID(t *testing.T) {
	long := strings.Repeat("a", 1024)
	for _, tc := range []struct {
		name, uri, jid string
		err            error
	}{
		{"plain", "sip:juliet@xmpp.example.net", "juliet@xmpp.example.net", nil},
		{"sips and brackets", "<sips:juliet@xmpp.example.net>", "juliet@xmpp.example.net", nil},
		{"case folded", "sip:Juliet@XMPP.Example.NET", "juliet@xmpp.example.net", nil},
		{"port and params dropped", "sip:romeo@example.com:5061;transport=tcp;user=ip?subject=x", "romeo@example.com", nil},
		{"gruu to resource", "sip:romeo@example.com;gr=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "romeo@example.com/urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", nil},
		{"percent-decoded", "sip:d%27artagnan@example.com", `d\27artagnan@example.com`, nil},
		{"space escaped", "sip:john%20doe@example.com", `john\20doe@example.com`, nil},
		{"slash and colon", "sip:a/b@example.com", `a\2fb@example.com`, nil},
		{"at sign", "sip:c%40d@example.com", `c\40d@example.com`, nil},
		{"literal escape-like backslash", `sip:a%5C20b@example.com`, `a\5c20b@example.com`, nil},
		{"other backslash kept", `sip:a%5Cb@example.com`, `a\b@example.com`, nil},
		{"unicode user", "sip:%C3%A9lo%C3%AFse@example.com", "éloïse@example.com", nil},
		{"telephone user", "sip:+12065550123@example.com;user=phone", "+12065550123@example.com", nil},
		{"ipv4 host", "sip:bob@127.0.0.1:5060", "bob@127.0.0.1", nil},
		{"ipv6 host", "sip:bob@[::1]:5060", "bob@[::1]", nil},
		{"no user", "sip:example.com", "", ErrNoUser},
		{"empty user", "sip:@example.com", "", ErrNoUser},
		{"tel scheme", "tel:+12065550123", "", ErrAddressScheme},
		{"mailto scheme", "mailto:a@example.com", "", ErrAddressScheme},
		{"no scheme", "juliet", "", ErrAddressSyntax},
		{"password", "sip:a:secret@example.com", "", ErrAddressSyntax},
		{"bad escape", "sip:a%2@example.com", "", ErrAddressSyntax},
		{"bad escape hex", "sip:a%zz@example.com", "", ErrAddressSyntax},
		{"raw space", "sip:a b@example.com", "", ErrAddressSyntax},
		{"no host", "sip:a@", "", ErrAddressSyntax},
		{"open ipv6", "sip:a@[::1", "", ErrAddressSyntax},
		{"leading space", "sip:%20a@example.com", "", ErrUnmappable},
		{"trailing space", "sip:a%20@example.com", "", ErrUnmappable},
		{"not utf-8", "sip:%FF@example.com", "", ErrUnmappable},
		{"control char", "sip:a%00b@example.com", "", ErrUnmappable},
		{"temporary gruu", "sip:tgruu.7hs==jd7vnzga5w7fajsc7-ajd6fabz0f8g5@example.com;gr", "", ErrUnmappable},
		{"localpart 1024", "sip:" + long + "@example.com", "", ErrAddressTooLong},
		{"localpart 1023 ok", "sip:" + long[1:] + "@example.com", long[1:] + "@example.com", nil},
		{"escaping pushes over", "sip:" + strings.Repeat("%40", 342) + "@example.com", "", ErrAddressTooLong},
		{"resource 1024", "sip:a@example.com;gr=" + long, "", ErrAddressTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseSIPAddress(tc.uri)
			if err == nil {
				j, jerr := a.JID()
				if jerr == nil && tc.err == nil && j.String() != tc.jid {
					t.Fatalf("JID = %q, want %q", j.String(), tc.jid)
				}
				err = jerr
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "xmpp: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestJIDToSIP(t *testing.T) {
	for _, tc := range []struct {
		name, jid, uri string
		err            error
	}{
		{"plain", "alice@example.com", "sip:alice@example.com", nil},
		{"resource to gr", "alice@example.com/balcony", "sip:alice@example.com;gr=balcony", nil},
		{"resource encoded", "alice@example.com/my phone", "sip:alice@example.com;gr=my%20phone", nil},
		{"unescaped then encoded", `d\27artagnan@example.com`, "sip:d'artagnan@example.com", nil},
		{"space", `john\20doe@example.com`, "sip:john%20doe@example.com", nil},
		{"at sign", `c\40d@example.com`, "sip:c%40d@example.com", nil},
		{"escaped backslash", `a\5c20b@example.com`, `sip:a%5C20b@example.com`, nil},
		{"unicode", "éloïse@example.com", "sip:%C3%A9lo%C3%AFse@example.com", nil},
		{"idn domain", "juliet@bücher.example", "sip:juliet@xn--bcher-kva.example", nil},
		{"case folded on parse", "Juliet@Example.COM", "sip:juliet@example.com", nil},
		{"domain only", "example.com", "", ErrNoUser},
		{"forbidden localpart char", "a\"b@example.com", "", ErrAddressSyntax},
		{"empty", "", "", ErrAddressSyntax},
		{"localpart too long", strings.Repeat("a", 1024) + "@example.com", "", ErrAddressTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := ParseJID(tc.jid)
			if err == nil {
				var a SIPAddress
				a, err = SIPFromJID(j)
				if err == nil && a.String() != tc.uri {
					t.Fatalf("SIP = %q, want %q", a.String(), tc.uri)
				}
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}
}

// TestRoundTrip: SIP -> JID -> SIP gives the same address, up to PRECIS
// case folding of the user part.
func TestRoundTrip(t *testing.T) {
	for _, uri := range []string{
		"sip:juliet@xmpp.example.net",
		"sip:d'artagnan@example.com",
		"sip:john%20doe@example.com",
		"sip:a%5C20b@example.com",
		`sip:a%5Cb@example.com`,
		"sip:x%3Cy%3E%22z%22@example.com",
		"sip:%C3%A9lo%C3%AFse@example.com;gr=urn:uuid:1234",
		"sip:a&b=c+d$e,f;g?h/i@example.com",
		"sip:+12065550123@example.com",
	} {
		a, err := ParseSIPAddress(uri)
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		j, err := a.JID()
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		b, err := SIPFromJID(j)
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		if b != a {
			t.Errorf("%s -> %s -> %+v, want %+v", uri, j, b, a)
		}
		if b.String() != uri {
			t.Errorf("%s -> %s -> %s", uri, j, b.String())
		}
	}
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"", ""},
		{"simple", "simple"},
		{"space cadet", `space\20cadet`},
		{`call me "ishmael"`, `call\20me\20\22ishmael\22`},
		{"at&t guy", `at\26t\20guy`},
		{"d'artagnan", `d\27artagnan`},
		{"/.fanboy", `\2f.fanboy`},
		{"::foo::", `\3a\3afoo\3a\3a`},
		{"<foo>", `\3cfoo\3e`},
		{"user@host", `user\40host`},
		{`c:\net`, `c\3a\net`},
		{`c:\\net`, `c\3a\\net`},
		{`c:\cool stuff`, `c\3a\cool\20stuff`},
		{`c:\5commas`, `c\3a\5c5commas`},
		{`\`, `\`},
		{`\2`, `\2`},
		{`\20`, `\5c20`},
		{`\2F`, `\2F`}, // uppercase is no escape sequence
	} {
		if got := Escape(tc.in); got != tc.out {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.out)
		}
		if got := Unescape(tc.out); got != tc.in {
			t.Errorf("Unescape(%q) = %q, want %q", tc.out, got, tc.in)
		}
	}
	// Unescape of things Escape never writes.
	for in, out := range map[string]string{
		`\5c`:     `\`,
		`\5c5c`:   `\5c`,
		`\`:       `\`,
		`a\`:      `a\`,
		`\4`:      `\4`,
		`\41`:     `\41`,
		`\40\40`:  `@@`,
		`\\20`:    `\ `,
		"\\\xff2": "\\\xff2",
	} {
		if got := Unescape(in); got != out {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, out)
		}
	}
}

func TestValidHost(t *testing.T) {
	for h, want := range map[string]bool{
		"example.com": true, "a-b.example": true, "127.0.0.1": true, "[::1]": true, "xn--bcher-kva.example": true,
		"": false, ".": false, "..": false, "example.com.": false, "-a.example": false, "a_b.example": false,
		"[::1": false, "[1.2.3.4]": false, "bücher.example": false, strings.Repeat("a", 64) + ".example": false,
	} {
		if got := validHost(h); got != want {
			t.Errorf("validHost(%q) = %v, want %v", h, got, want)
		}
	}
}
