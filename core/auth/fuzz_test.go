package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// FuzzParseCredentials checks that ParseCredentials never panics, that every
// error is ErrMalformed, and that whatever parses satisfies the documented
// invariants and survives a canonical re-encoding.
func FuzzParseCredentials(f *testing.F) {
	f.Add(sippValue)
	f.Add(baresipValue)
	f.Add(`Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`)
	f.Add(`Digest username="a\"b", realm="x, y", nonce="n", uri="sip:a@b", response="00"`)
	f.Fuzz(func(t *testing.T, value string) {
		c, err := ParseCredentials(value)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if c != (Credentials{}) {
				t.Fatalf("non-zero credentials %+v with error", c)
			}
			return
		}
		if c.Username == "" || c.Realm == "" || c.Nonce == "" || c.URI == "" || !isHex(c.Response) {
			t.Fatalf("accepted incomplete credentials %+v", c)
		}
		if c.QOP != "" && (c.CNonce == "" || !validNC(c.NC)) {
			t.Fatalf("accepted qop without cnonce/nc: %+v", c)
		}
		again, err := ParseCredentials(encodeCredentials(c))
		if err != nil {
			t.Fatalf("re-encoded %+v does not parse: %v", c, err)
		}
		if again != c {
			t.Fatalf("round trip changed credentials:\n%+v\n%+v", c, again)
		}
	})
}

// encodeCredentials renders c with every parameter quoted.
func encodeCredentials(c Credentials) string {
	var b strings.Builder
	b.WriteString("Digest ")
	for i, p := range []param{
		{"username", c.Username}, {"realm", c.Realm}, {"nonce", c.Nonce}, {"uri", c.URI},
		{"response", c.Response}, {"algorithm", c.Algorithm}, {"cnonce", c.CNonce},
		{"qop", c.QOP}, {"nc", c.NC}, {"opaque", c.Opaque},
	} {
		if p.value == "" {
			continue
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%s", p.name, quote(p.value))
	}
	return b.String()
}

// fuzzEpoch is the fixed clock of FuzzNoncesCheck; the seed corpus holds
// nonces minted at this instant with fuzzSecret.
var (
	fuzzEpoch  = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	fuzzSecret = []byte("parley fuzz secret")
)

// FuzzNoncesCheck checks that Check never panics, only returns the
// documented errors, and never accepts the same (nonce, nc) twice.
func FuzzNoncesCheck(f *testing.F) {
	n := NewNonces(fuzzSecret, 5*time.Minute, func() time.Time { return fuzzEpoch })
	f.Add(n.Mint(), "00000001")
	f.Add(n.Mint(), "")
	f.Add("dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001")
	f.Fuzz(func(t *testing.T, nonce, nc string) {
		n := NewNonces(fuzzSecret, 5*time.Minute, func() time.Time { return fuzzEpoch.Add(time.Minute) })
		err := n.Check(nonce, nc)
		if err != nil {
			for _, known := range []error{ErrInvalidNonce, ErrStale, ErrMalformed} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("unexpected error %v", err)
		}
		if len(nonce) != 43 {
			t.Fatalf("accepted nonce %q of length %d", nonce, len(nonce))
		}
		if err := n.Check(nonce, nc); !errors.Is(err, ErrReplay) {
			t.Fatalf("second Check(%q, %q) = %v, want ErrReplay", nonce, nc, err)
		}
	})
}

// FuzzAuthenticatorCheck feeds arbitrary credentials and Request-URIs through
// the whole verification (including sipgo's URI parser).
func FuzzAuthenticatorCheck(f *testing.F) {
	f.Add(sippValue, "sip:127.0.0.1:5060")
	f.Add(baresipValue, "sip:localhost")
	f.Add(`Digest username="a", realm="r", nonce="n", uri="sip:[::1", response="00"`, "sip:[::1]")
	f.Add(`Digest username="a", realm="r", nonce="n", uri="sip:a@b;x=1?h=2&", response="00"`, "sip:a@b:99999999999999999999")
	f.Fuzz(func(t *testing.T, header, requestURI string) {
		a := NewAuthenticator(Config{Secret: fuzzSecret, Now: func() time.Time { return fuzzEpoch }})
		res, err := a.Check(Request{Method: "REGISTER", RequestURI: requestURI, Header: header},
			func(string, string, Algorithm) (string, bool) { return "", false })
		if err == nil {
			t.Fatalf("accepted %q for an empty user table: %+v", header, res)
		}
		uriNamesTarget(header, Request{RequestURI: requestURI})
	})
}

// TestFuzzSeedNonceIsValid keeps testdata/fuzz/FuzzNoncesCheck/valid_nc1
// meaningful: it must exercise the success path.
func TestFuzzSeedNonceIsValid(t *testing.T) {
	n := NewNonces(fuzzSecret, 5*time.Minute, func() time.Time { return fuzzEpoch.Add(time.Minute) })
	if err := n.Check("GCisBoYzgAABAgMEBQYHCOfOANhZ7-SlMa6-znMZkN4", "00000001"); err != nil {
		t.Fatalf("seed nonce rejected: %v", err)
	}
}
