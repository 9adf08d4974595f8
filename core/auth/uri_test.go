package auth

import (
	"errors"
	"fmt"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestCheckSippOwnURI(t *testing.T) {
	a := NewAuthenticator(Config{Secret: testSecret})
	u := newUsers()
	nonce := nonceFrom(t, a.Challenges("localhost", false), MD5)
	// sipp's [authentication] puts the server address in the digest uri even
	// for an INVITE to sip:bob@localhost.
	resp := Response(MD5, HA1(MD5, "alice", "localhost", "wonderland"), "INVITE", "sip:127.0.0.1:5060", nonce, "00000001", "6b8b4567", "auth")
	hdr := fmt.Sprintf(`Digest username="alice",realm="localhost",cnonce="6b8b4567",nc=00000001,qop=auth,uri="sip:127.0.0.1:5060",nonce="%s",response="%s",algorithm=MD5`, nonce, resp)
	req := Request{Method: "INVITE", RequestURI: "sip:bob@localhost", Header: hdr}

	if _, err := a.Check(req, u.lookup); !errors.Is(err, ErrURIMismatch) {
		t.Fatalf("without IsOwnURI: err = %v, want ErrURIMismatch", err)
	}
	req.IsOwnURI = func(uri string) bool { return uri == "sip:127.0.0.1:5060" }
	if _, err := a.Check(req, u.lookup); err != nil {
		t.Fatalf("with IsOwnURI: %v", err)
	}

	// The same through IsOwnHost and a parsed Recipient, as the pipeline
	// asks (the digest uri parsed once): another host is refused.
	for _, tc := range []struct {
		own  string
		port int
		ok   bool
	}{{"127.0.0.1", 5060, true}, {"127.0.0.1", 5070, false}, {"10.0.0.1", 5060, false}} {
		nc := fmt.Sprintf("%08x", 2+tc.port%7)
		resp := Response(MD5, HA1(MD5, "alice", "localhost", "wonderland"), "INVITE", "sip:127.0.0.1:5060", nonce, nc, "6b8b4567", "auth")
		hdr := fmt.Sprintf(`Digest username="alice",realm="localhost",cnonce="6b8b4567",nc=%s,qop=auth,uri="sip:127.0.0.1:5060",nonce="%s",response="%s",algorithm=MD5`, nc, nonce, resp)
		rcpt := sip.Uri{Scheme: "sip", User: "bob", Host: "localhost"}
		req := Request{Method: "INVITE", RequestURI: "sip:bob@localhost", Recipient: &rcpt, Header: hdr,
			IsOwnURI:  func(string) bool { return true }, // not asked when IsOwnHost is set
			IsOwnHost: func(h string, p int) bool { return h == tc.own && p == tc.port }}
		_, err := a.Check(req, u.lookup)
		if tc.ok && err != nil {
			t.Errorf("IsOwnHost %s:%d: %v", tc.own, tc.port, err)
		}
		if !tc.ok && !errors.Is(err, ErrURIMismatch) {
			t.Errorf("IsOwnHost %s:%d: err = %v, want ErrURIMismatch", tc.own, tc.port, err)
		}
	}
}

func TestCheckURIMismatch(t *testing.T) {
	a := NewAuthenticator(Config{Secret: testSecret})
	u := newUsers()
	nonce := nonceFrom(t, a.Challenges("localhost", false), SHA256)
	for _, uri := range []string{"sip:localhost:5061", "sips:localhost", "sip:mallory@localhost", "sip:evil.example", "tel:+15551234"} {
		ca := clientAuth{alg: SHA256, user: "alice", realm: "localhost", pass: "wonderland", method: "REGISTER",
			uri: uri, nonce: nonce, nc: "00000001", cno: "c"}
		req := Request{Method: "REGISTER", RequestURI: "sip:localhost", Header: ca.String(),
			IsOwnURI: func(string) bool { return false }}
		if _, err := a.Check(req, u.lookup); !errors.Is(err, ErrURIMismatch) {
			t.Errorf("uri %s: err = %v, want ErrURIMismatch", uri, err)
		}
	}
	if n := u.calls.Load(); n != 0 {
		t.Errorf("lookup called %d times for mismatching uris", n)
	}
}

func TestURIMatches(t *testing.T) {
	tests := []struct {
		d, r string
		want bool
	}{
		{"sip:127.0.0.1:5060", "sip:127.0.0.1:5060", true},
		{"sip:alice@Example.COM", "SIP:alice@example.com", true},
		{"sip:alice@example.com;transport=tcp", "sip:alice@example.com", true},
		{"sip:[::1]:5060", "sip:[::1]:5060;lr", true},
		{"sip:Alice@example.com", "sip:alice@example.com", false},
		{"sip:example.com", "sip:example.com:5060", false},
		{"sip:example.com", "sips:example.com", false},
		{"tel:+1555", "tel:+1555", true},
		{"tel:+1555", "tel:+1556", false},
		{"/dir/index.html", "/dir/index.html", true},
		{"*", "sip:example.com", false},
		{"sip:a@b:notaport", "sip:a@b", false},
	}
	for _, tt := range tests {
		if got := uriNamesTarget(tt.d, Request{RequestURI: tt.r}); got != tt.want {
			t.Errorf("uriNamesTarget(%q, %q) = %v, want %v", tt.d, tt.r, got, tt.want)
		}
	}
}

func TestSelectCredentials(t *testing.T) {
	md5 := clientAuth{alg: MD5, user: "alice", realm: "localhost", pass: "p", method: "REGISTER", uri: "sip:localhost", nonce: "n1", nc: "00000001", cno: "c"}.String()
	sha := clientAuth{alg: SHA256, user: "alice", realm: "localhost", pass: "p", method: "REGISTER", uri: "sip:localhost", nonce: "n2", nc: "00000001", cno: "c"}.String()
	other := clientAuth{alg: SHA256, user: "alice", realm: "other", pass: "p", method: "REGISTER", uri: "sip:localhost", nonce: "n3", nc: "00000001", cno: "c"}.String()
	tests := []struct {
		values []string
		realm  string
		prefer []Algorithm
		want   string
	}{
		{[]string{md5, sha}, "localhost", nil, sha},
		{[]string{md5, sha}, "", []Algorithm{MD5}, md5},
		{[]string{other, md5}, "localhost", nil, md5},
		{[]string{"garbage", md5}, "", nil, md5},
		{[]string{"garbage"}, "", nil, "garbage"},
		{nil, "", nil, ""},
	}
	for i, tt := range tests {
		if got := SelectCredentials(tt.values, tt.realm, tt.prefer...); got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, got, tt.want)
		}
	}
}
