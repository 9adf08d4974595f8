package auth

import (
	"errors"
	"strings"
	"testing"
)

const (
	sippValue = `Digest username="alice",realm="localhost",cnonce="6b8b4567",nc=00000001,qop=auth,uri="sip:127.0.0.1:5060",nonce="AAAAAGfC9yCMXd3mX9h0mHnG2f8q3aW4s3x6pQ0xLJ0",response="0f5c1e3d6d2b8c4a7e9f1b2c3d4e5f60",algorithm=MD5`
	// baresip (libre sip/auth.c) puts qop, nc and algorithm last, and a
	// 16-hex-digit cnonce.
	baresipValue = `Digest username="alice", realm="localhost", nonce="AAAAAGfC9yCMXd3mX9h0mHnG2f8q3aW4s3x6pQ0xLJ0", uri="sip:localhost", response="2a6f1c0e3b5d7f9a1c3e5a7b9d1f3e5a7c9e1a3b5d7f9a1c3e5a7b9d1f3e5a7c", cnonce="1a2b3c4d5e6f7081", qop=auth, nc=00000001, algorithm=SHA-256`
)

func TestParseCredentialsGood(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  Credentials
	}{
		{
			name:  "sipp 3.6",
			value: sippValue,
			want: Credentials{Username: "alice", Realm: "localhost", CNonce: "6b8b4567", NC: "00000001", QOP: "auth",
				URI: "sip:127.0.0.1:5060", Nonce: "AAAAAGfC9yCMXd3mX9h0mHnG2f8q3aW4s3x6pQ0xLJ0",
				Response: "0f5c1e3d6d2b8c4a7e9f1b2c3d4e5f60", Algorithm: "MD5"},
		},
		{
			name:  "baresip",
			value: baresipValue,
			want: Credentials{Username: "alice", Realm: "localhost", Nonce: "AAAAAGfC9yCMXd3mX9h0mHnG2f8q3aW4s3x6pQ0xLJ0",
				URI: "sip:localhost", Response: "2a6f1c0e3b5d7f9a1c3e5a7b9d1f3e5a7c9e1a3b5d7f9a1c3e5a7b9d1f3e5a7c",
				CNonce: "1a2b3c4d5e6f7081", QOP: "auth", NC: "00000001", Algorithm: "SHA-256"},
		},
		{
			name: "rfc2617 example with opaque",
			value: `Digest username="Mufasa",
                 realm="testrealm@host.com",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 uri="/dir/index.html",
                 qop=auth,
                 nc=00000001,
                 cnonce="0a4f113b",
                 response="6629fae49393a05397450978507c4ef1",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41"`,
			want: Credentials{Username: "Mufasa", Realm: "testrealm@host.com", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
				URI: "/dir/index.html", QOP: "auth", NC: "00000001", CNonce: "0a4f113b",
				Response: "6629fae49393a05397450978507c4ef1", Opaque: "5ccc069c403ebaf9f0171e9517f40e41"},
		},
		{
			name:  "rfc2069 no qop, scheme lowercase, names uppercase",
			value: `digest USERNAME="bob", Realm="r", NONCE="n", Uri="sip:r", RESPONSE="ABCDEF0123"`,
			want:  Credentials{Username: "bob", Realm: "r", Nonce: "n", URI: "sip:r", Response: "ABCDEF0123"},
		},
		{
			name:  "escapes and commas in quoted strings, quoted qop and algorithm",
			value: `Digest username="a\"b,c\\d", realm="x, y", nonce="n", uri="sip:a@b;x=\"1\"", response="00", qop="auth", nc=0000000a, cnonce="c,c", algorithm="md5"`,
			want: Credentials{Username: `a"b,c\d`, Realm: "x, y", Nonce: "n", URI: `sip:a@b;x="1"`, Response: "00",
				QOP: "auth", NC: "0000000a", CNonce: "c,c", Algorithm: "md5"},
		},
		{
			name:  "spaces around = and empty list elements, unknown params",
			value: "  Digest\tusername = \"u\" ,, realm=\"r\", nonce=\"n\", uri=sip:r, response=ff, userhash=false, foo=\"bar\",",
			want:  Credentials{Username: "u", Realm: "r", Nonce: "n", URI: "sip:r", Response: "ff"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCredentials(tt.value)
			if err != nil {
				t.Fatalf("ParseCredentials: %v", err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseCredentialsBad(t *testing.T) {
	const ok = `username="u", realm="r", nonce="n", uri="sip:r", response="ff"`
	tests := []struct {
		name, value, msg string
	}{
		{"empty", "", "not a Digest"},
		{"scheme only", "Digest", "not a Digest"},
		{"scheme and space", "Digest   ", "no parameters"},
		{"basic", `Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==`, "not a Digest"},
		{"no space after scheme", `Digest,` + ok, "not a Digest"},
		{"digestive", `Digestive ` + ok, "not a Digest"},
		{"missing username", `Digest realm="r", nonce="n", uri="sip:r", response="ff"`, "missing username"},
		{"empty username", `Digest username="", realm="r", nonce="n", uri="sip:r", response="ff"`, "missing username"},
		{"missing realm", `Digest username="u", nonce="n", uri="sip:r", response="ff"`, "missing realm"},
		{"missing nonce", `Digest username="u", realm="r", uri="sip:r", response="ff"`, "missing nonce"},
		{"missing uri", `Digest username="u", realm="r", nonce="n", response="ff"`, "missing uri"},
		{"missing response", `Digest username="u", realm="r", nonce="n", uri="sip:r"`, "missing response"},
		{"duplicate", `Digest ` + ok + `, realm="s"`, "duplicate"},
		{"duplicate differing case", `Digest ` + ok + `, Username="s"`, "duplicate"},
		{"unterminated quote", `Digest ` + ok + `, opaque="abc`, "unterminated"},
		{"unterminated after escape", `Digest ` + ok + `, opaque="abc\`, "unterminated"},
		{"escaped quote never closed", `Digest ` + ok + `, opaque="abc\"`, "unterminated"},
		{"non-hex response", `Digest username="u", realm="r", nonce="n", uri="sip:r", response="xyz"`, "not hex"},
		{"qop without nc", `Digest ` + ok + `, qop=auth, cnonce="c"`, "nc must be"},
		{"qop without cnonce", `Digest ` + ok + `, qop=auth, nc=00000001`, "without cnonce"},
		{"short nc", `Digest ` + ok + `, qop=auth, nc=1, cnonce="c"`, "nc must be"},
		{"long nc", `Digest ` + ok + `, qop=auth, nc=000000001, cnonce="c"`, "nc must be"},
		{"non-hex nc", `Digest ` + ok + `, qop=auth, nc=0000000g, cnonce="c"`, "nc must be"},
		{"missing comma", `Digest username="u" realm="r", nonce="n", uri="sip:r", response="ff"`, "expected ','"},
		{"param without value", `Digest ` + ok + `, stale`, "without value"},
		{"junk instead of name", `Digest ` + ok + `, ="x"`, "unexpected"},
		{"control char in quoted", "Digest username=\"u\x00\", realm=\"r\", nonce=\"n\", uri=\"sip:r\", response=\"ff\"", "control"},
		{"escaped control char", "Digest username=\"a\\\x00\", realm=\"r\", nonce=\"n\", uri=\"sip:r\", response=\"ff\"", "control"},
		{"escaped line break", "Digest username=\"a\\\r\n b\", realm=\"r\", nonce=\"n\", uri=\"sip:r\", response=\"ff\"", "control"},
		{"too long", `Digest ` + ok + `, opaque="` + strings.Repeat("a", maxHeaderLen) + `"`, "longer than"},
		{"too many params", `Digest ` + ok + manyParams(maxParams), "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCredentials(tt.value)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v (creds %+v), want ErrMalformed", err, c)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q, want it to mention %q", err, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "auth: ") {
				t.Errorf("err = %q lacks the auth: prefix", err)
			}
			if c != (Credentials{}) {
				t.Errorf("creds = %+v, want zero on error", c)
			}
		})
	}
}

func TestChallengeString(t *testing.T) {
	tests := []struct {
		c    Challenge
		want string
	}{
		{Challenge{Realm: "r", Nonce: "n", Opaque: "o", Algorithm: SHA256},
			`Digest realm="r", nonce="n", opaque="o", algorithm=SHA-256, qop="auth"`},
		{Challenge{Realm: "localhost", Nonce: "abc", Algorithm: MD5, Stale: true},
			`Digest realm="localhost", nonce="abc", algorithm=MD5, qop="auth", stale=true`},
		{Challenge{Realm: `we "quote" \ you`, Nonce: "n"},
			`Digest realm="we \"quote\" \\ you", nonce="n", qop="auth"`},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("String() = %s\nwant       %s", got, tt.want)
		}
		back, err := ParseChallenge(tt.c.String())
		if err != nil {
			t.Fatalf("ParseChallenge(%s): %v", tt.c, err)
		}
		want := tt.c
		if want.Algorithm == "" {
			want.Algorithm = MD5
		}
		want.QOP = "auth" // String always offers it
		if back != want {
			t.Errorf("round trip = %+v, want %+v", back, want)
		}
	}
}

func TestParseChallengeErrors(t *testing.T) {
	if _, err := ParseChallenge(`Digest nonce="n"`); !errors.Is(err, ErrMalformed) {
		t.Errorf("no realm: err = %v", err)
	}
	if _, err := ParseChallenge(`Digest realm="r", nonce="n", algorithm=AKAv1-MD5`); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("aka: err = %v", err)
	}
	if _, err := ParseChallenge(`Basic realm="r"`); !errors.Is(err, ErrMalformed) {
		t.Errorf("basic: err = %v", err)
	}
}

func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(", x")
		b.WriteString(strings.Repeat("y", i))
		b.WriteString("=1")
	}
	return b.String()
}
