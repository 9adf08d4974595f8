package auth

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// users is a Lookup over a fixed user table, counting calls.
type users struct {
	pass  map[string]string // username -> password
	calls atomic.Int32
}

func (u *users) lookup(username, realm string, alg Algorithm) (string, bool) {
	u.calls.Add(1)
	p, ok := u.pass[username]
	if !ok || realm != "localhost" {
		return "", false
	}
	return HA1(alg, username, realm, p), true
}

func newUsers() *users {
	return &users{pass: map[string]string{"alice": "wonderland", "bob": "builder"}}
}

// nonceFrom extracts the nonce of the challenge for alg.
func nonceFrom(t *testing.T, challenges []string, alg Algorithm) string {
	t.Helper()
	for _, v := range challenges {
		c, err := ParseChallenge(v)
		if err != nil {
			t.Fatalf("ParseChallenge(%s): %v", v, err)
		}
		if c.Algorithm == alg {
			return c.Nonce
		}
	}
	t.Fatalf("no %s challenge in %q", alg, challenges)
	return ""
}

func TestChallenges(t *testing.T) {
	a := NewAuthenticator(Config{Secret: testSecret})
	ch := a.Challenges("localhost", false)
	if len(ch) != 2 {
		t.Fatalf("Challenges = %q, want 2 values", ch)
	}
	for i, alg := range []Algorithm{SHA256, MD5} {
		c, err := ParseChallenge(ch[i])
		if err != nil {
			t.Fatal(err)
		}
		if c.Algorithm != alg || c.Realm != "localhost" || c.Stale || !strings.Contains(ch[i], `qop="auth"`) {
			t.Errorf("challenge %d = %s", i, ch[i])
		}
		if err := a.Nonces().Validate(c.Nonce, "00000001"); err != nil {
			t.Errorf("challenge %d nonce: %v", i, err)
		}
	}
	if nonceFrom(t, ch, SHA256) == nonceFrom(t, ch, MD5) {
		t.Error("both challenges share a nonce")
	}
	for _, v := range a.Challenges("localhost", true) {
		if !strings.HasSuffix(v, ", stale=true") {
			t.Errorf("stale challenge %s", v)
		}
	}
	md5only := NewAuthenticator(Config{Secret: testSecret, Algorithms: []Algorithm{MD5, "bogus", MD5}})
	if ch := md5only.Challenges("r", false); len(ch) != 1 || !strings.Contains(ch[0], "algorithm=MD5") {
		t.Errorf("MD5-only challenges = %q", ch)
	}
}

func TestCheckEndToEnd(t *testing.T) {
	for _, alg := range []Algorithm{SHA256, MD5} {
		t.Run(string(alg), func(t *testing.T) {
			clk := newFakeClock()
			a := NewAuthenticator(Config{Secret: testSecret, Now: clk.Now})
			u := newUsers()
			nonce := nonceFrom(t, a.Challenges("localhost", false), alg)
			ca := clientAuth{alg: alg, user: "alice", realm: "localhost", pass: "wonderland",
				method: "REGISTER", uri: "sip:localhost", nonce: nonce, nc: "00000001", cno: "0a4f113b"}
			req := Request{Method: "REGISTER", RequestURI: "sip:localhost", Header: ca.String()}

			res, err := a.Check(req, u.lookup)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if res != (Result{Username: "alice", Realm: "localhost", Algorithm: alg}) {
				t.Errorf("Result = %+v", res)
			}
			// Same request again: replay.
			if _, err := a.Check(req, u.lookup); !errors.Is(err, ErrReplay) {
				t.Errorf("replay: err = %v, want ErrReplay", err)
			}
			// Next nc on the same nonce, different method (re-REGISTER / INVITE).
			ca.nc, ca.method = "00000002", "INVITE"
			ca.uri = "sip:bob@localhost"
			req = Request{Method: "INVITE", RequestURI: "sip:bob@LOCALHOST;transport=tcp", Header: ca.String()}
			if _, err := a.Check(req, u.lookup); err != nil {
				t.Errorf("nc=2: %v", err)
			}
			// The response covers the method.
			req.Method = "BYE"
			ca.nc = "00000003"
			req.Header = ca.String()
			if _, err := a.Check(req, u.lookup); !errors.Is(err, ErrMismatch) {
				t.Errorf("method changed: err = %v, want ErrMismatch", err)
			}
			// Expired nonce with the right password: stale.
			clk.Advance(DefaultNonceLifetime + time.Second)
			req.Method = "INVITE"
			if _, err := a.Check(req, u.lookup); !errors.Is(err, ErrStale) {
				t.Errorf("expired: err = %v, want ErrStale", err)
			}
			// Expired nonce with the wrong password: mismatch, not stale.
			ca.pass = "guess"
			req.Header = ca.String()
			if _, err := a.Check(req, u.lookup); !errors.Is(err, ErrMismatch) {
				t.Errorf("expired, wrong password: err = %v, want ErrMismatch", err)
			}
		})
	}
}

func TestCheckRFC2069(t *testing.T) {
	a := NewAuthenticator(Config{Secret: testSecret})
	u := newUsers()
	ca := clientAuth{alg: MD5, user: "bob", realm: "localhost", pass: "builder", method: "REGISTER",
		uri: "sip:localhost", nonce: nonceFrom(t, a.Challenges("localhost", false), MD5)}
	req := Request{Method: "REGISTER", RequestURI: "sip:localhost", Header: strings.Replace(ca.String(), ", algorithm=MD5", "", 1)}
	if _, err := a.Check(req, u.lookup); err != nil {
		t.Fatalf("no qop, no algorithm: %v", err)
	}
	if _, err := a.Check(req, u.lookup); !errors.Is(err, ErrReplay) {
		t.Errorf("second use: err = %v, want ErrReplay", err)
	}
}

func TestCheckWrongPasswordDoesNotConsumeNC(t *testing.T) {
	a := NewAuthenticator(Config{Secret: testSecret})
	u := newUsers()
	nonce := nonceFrom(t, a.Challenges("localhost", false), SHA256)
	good := clientAuth{alg: SHA256, user: "alice", realm: "localhost", pass: "wonderland", method: "REGISTER",
		uri: "sip:localhost", nonce: nonce, nc: "00000005", cno: "c"}
	bad := good
	bad.pass = "password1"
	for _, ca := range []clientAuth{bad, {alg: SHA256, user: "nobody", realm: "localhost", pass: "x",
		method: "REGISTER", uri: "sip:localhost", nonce: nonce, nc: "00000005", cno: "c"}} {
		_, err := a.Check(Request{Method: "REGISTER", RequestURI: "sip:localhost", Header: ca.String()}, u.lookup)
		if !errors.Is(err, ErrMismatch) {
			t.Fatalf("user %s: err = %v, want ErrMismatch", ca.user, err)
		}
		if err.Error() != ErrMismatch.Error() {
			t.Errorf("mismatch error %q reveals detail", err)
		}
	}
	// A garbage response with a higher nc must not burn it either.
	garbage := fmt.Sprintf(`Digest username="alice", realm="localhost", nonce=%q, uri="sip:localhost", response="00", qop=auth, nc=00000009, cnonce="c", algorithm=SHA-256`, nonce)
	if _, err := a.Check(Request{Method: "REGISTER", RequestURI: "sip:localhost", Header: garbage}, u.lookup); !errors.Is(err, ErrMismatch) {
		t.Fatalf("garbage response: err = %v, want ErrMismatch", err)
	}
	if n := a.Nonces().Tracked(); n != 0 {
		t.Errorf("Tracked() = %d after failures only", n)
	}
	if _, err := a.Check(Request{Method: "REGISTER", RequestURI: "sip:localhost", Header: good.String()}, u.lookup); err != nil {
		t.Errorf("correct password after failures: %v", err)
	}
}

func TestCheckErrors(t *testing.T) {
	a := NewAuthenticator(Config{Secret: testSecret})
	u := newUsers()
	nonce := nonceFrom(t, a.Challenges("localhost", false), MD5)
	base := clientAuth{alg: MD5, user: "alice", realm: "localhost", pass: "wonderland", method: "REGISTER",
		uri: "sip:localhost", nonce: nonce, nc: "00000001", cno: "c"}
	foreign := NewNonces([]byte("not our secret"), time.Minute, nil).Mint()
	tests := []struct {
		name   string
		header string
		realm  string
		want   error
	}{
		{"empty", "", "", ErrNoCredentials},
		{"blank", "  ", "", ErrNoCredentials},
		{"malformed", `Digest username="alice"`, "", ErrMalformed},
		{"basic", `Basic YWxpY2U6d29uZGVybGFuZA==`, "", ErrMalformed},
		{"md5-sess", strings.Replace(base.String(), "algorithm=MD5", "algorithm=MD5-sess", 1), "", ErrUnsupportedAlgorithm},
		{"auth-int", strings.Replace(base.String(), "qop=auth", "qop=auth-int", 1), "", ErrMalformed},
		{"foreign nonce", strings.Replace(base.String(), nonce, foreign, 1), "", ErrInvalidNonce},
		{"garbage nonce", strings.Replace(base.String(), nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093", 1), "", ErrInvalidNonce},
		{"wrong realm", base.String(), "example.com", ErrMismatch},
		{"unknown realm", func() string { c := base; c.realm = "other"; return c.String() }(), "", ErrMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := a.Check(Request{Method: "REGISTER", RequestURI: "sip:localhost", Header: tt.header, Realm: tt.realm}, u.lookup)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if res != (Result{}) {
				t.Errorf("Result = %+v on error", res)
			}
		})
	}
	// None of these consumed the nonce.
	if _, err := a.Check(Request{Method: "REGISTER", RequestURI: "sip:localhost", Header: base.String(), Realm: "localhost"}, u.lookup); err != nil {
		t.Errorf("valid after errors: %v", err)
	}
}

func TestCheckAlgorithmNotEnabled(t *testing.T) {
	a := NewAuthenticator(Config{Secret: testSecret, Algorithms: []Algorithm{SHA256}})
	ca := clientAuth{alg: MD5, user: "alice", realm: "localhost", pass: "wonderland", method: "REGISTER",
		uri: "sip:localhost", nonce: a.Nonces().Mint(), nc: "00000001", cno: "c"}
	if _, err := a.Check(Request{Method: "REGISTER", RequestURI: "sip:localhost", Header: ca.String()}, newUsers().lookup); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("err = %v, want ErrUnsupportedAlgorithm", err)
	}
}

func TestCheckConcurrentSameNC(t *testing.T) {
	a := NewAuthenticator(Config{Secret: testSecret})
	u := newUsers()
	ca := clientAuth{alg: SHA256, user: "alice", realm: "localhost", pass: "wonderland", method: "REGISTER",
		uri: "sip:localhost", nonce: a.Nonces().Mint(), nc: "00000001", cno: "c"}
	req := Request{Method: "REGISTER", RequestURI: "sip:localhost", Header: ca.String()}
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := a.Check(req, u.lookup)
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, ErrReplay):
				t.Errorf("unexpected %v", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Errorf("accepted %d times, want exactly once", ok.Load())
	}
}

// The placeholder HA1 used to equalise timing for unknown users must never
// authenticate anyone.
func TestCheckUnknownUserPlaceholderHA1(t *testing.T) {
	a := NewAuthenticator(Config{Secret: testSecret})
	for _, alg := range []Algorithm{MD5, SHA256} {
		nonce := a.Nonces().Mint()
		for _, ha1 := range []string{strings.Repeat("0", alg.hexLen()), ""} {
			resp := Response(alg, ha1, "REGISTER", "sip:localhost", nonce, "00000001", "c", "auth")
			hdr := fmt.Sprintf(`Digest username="ghost", realm="localhost", nonce=%q, uri="sip:localhost", response=%q, qop=auth, nc=00000001, cnonce="c", algorithm=%s`, nonce, resp, alg)
			_, err := a.Check(Request{Method: "REGISTER", RequestURI: "sip:localhost", Header: hdr}, newUsers().lookup)
			if !errors.Is(err, ErrMismatch) {
				t.Errorf("%s ha1=%q: err = %v, want ErrMismatch", alg, ha1, err)
			}
		}
	}
}
