package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// DefaultNonceLifetime is the nonce lifetime when Config.NonceLifetime is 0.
const DefaultNonceLifetime = 5 * time.Minute

// Config configures an [Authenticator].
type Config struct {
	// Secret keys the nonce MAC. It must be the same on every node of the
	// cluster so that any node accepts nonces minted by another. When empty a
	// random secret is generated, which only works for a single node.
	Secret []byte
	// NonceLifetime is how long a nonce is accepted; default 5 min when zero.
	NonceLifetime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Algorithms lists the algorithms to offer, most preferred first, and
	// which are accepted. Nil means {SHA256, MD5} (RFC 8760 section 2.4:
	// preferred first). Unsupported entries are ignored. Set {MD5} for
	// clients that cannot cope with a SHA-256 challenge.
	Algorithms []Algorithm
}

// Authenticator verifies SIP digest credentials. It is safe for concurrent
// use.
type Authenticator struct {
	nonces *Nonces
	algs   []Algorithm
}

// NewAuthenticator returns an Authenticator for cfg.
func NewAuthenticator(cfg Config) *Authenticator {
	secret := cfg.Secret
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret) // never fails since Go 1.24
	}
	lifetime := cfg.NonceLifetime
	if lifetime <= 0 {
		lifetime = DefaultNonceLifetime
	}
	var algs []Algorithm
	for _, alg := range cfg.Algorithms {
		if alg.newHash() != nil && !slices.Contains(algs, alg) {
			algs = append(algs, alg)
		}
	}
	if len(algs) == 0 {
		algs = []Algorithm{SHA256, MD5}
	}
	return &Authenticator{
		nonces: NewNonces(secret, lifetime, cfg.Now),
		algs:   algs,
	}
}

// Nonces exposes the nonce store (for metrics and tests).
func (a *Authenticator) Nonces() *Nonces { return a.nonces }

// Challenges returns the header values to put in a 401 (WWW-Authenticate) or
// 407 (Proxy-Authenticate), one header per value, in order: SHA-256 first,
// then MD5 (unless Config.Algorithms says otherwise), each with qop="auth"
// and its own fresh nonce. Set stale when the previous attempt failed with
// ErrStale or ErrReplay.
func (a *Authenticator) Challenges(realm string, stale bool) []string {
	out := make([]string, 0, len(a.algs))
	for _, alg := range a.algs {
		out = append(out, Challenge{Realm: realm, Nonce: a.nonces.Mint(), Algorithm: alg, Stale: stale}.String())
	}
	return out
}

// Lookup returns the stored HA1 (lowercase hex, see [HA1]) of username in
// realm for the algorithm, ok=false when the user does not exist or is
// disabled. It is called at most once per Check.
type Lookup func(username, realm string, alg Algorithm) (ha1 string, ok bool)

// Request is what Check needs to know about the SIP request.
type Request struct {
	// Method is the SIP method (ACK and CANCEL are never challenged, so
	// callers won't call Check for them).
	Method string
	// RequestURI is the Request-URI as a string.
	RequestURI string
	// Header is the Authorization or Proxy-Authorization value; "" yields
	// ErrNoCredentials. When there are several, see SelectCredentials.
	Header string
	// Recipient, when set, is the Request-URI already parsed (it spares
	// parsing RequestURI again).
	Recipient *sip.Uri
	// IsOwnURI optionally reports whether a digest uri names this server's
	// own address (sipp puts the server address there). May be nil.
	IsOwnURI func(uri string) bool
	// IsOwnHost, when set, does the same from the digest uri's host and
	// port (parsed once here) and is asked instead of IsOwnURI.
	IsOwnHost func(host string, port int) bool
	// Realm, when not empty, is the realm this request was challenged with;
	// credentials for any other realm fail with ErrMismatch.
	Realm string
}

// Result identifies the authenticated user.
type Result struct {
	Username, Realm string
	Algorithm       Algorithm
}

// Check verifies the credentials in req. On success the nonce-count is
// recorded and the Result names the user. Otherwise Result is zero and the
// error wraps one of:
//   - ErrNoCredentials: req.Header is empty;
//   - ErrMalformed: the value does not parse, or qop is not "auth";
//   - ErrUnsupportedAlgorithm: not MD5 or SHA-256 (empty means MD5), or
//     not enabled in Config.Algorithms;
//   - ErrURIMismatch: the digest uri is neither the Request-URI nor, per
//     IsOwnURI, this server;
//   - ErrInvalidNonce, ErrReplay: see [Nonces.Check];
//   - ErrMismatch: unknown user, wrong realm or wrong response;
//   - ErrStale: the nonce expired but the response is right for it, so a
//     challenge with stale=true lets the client retry without reprompting.
//
// Nothing is recorded unless the response verified.
func (a *Authenticator) Check(req Request, lookup Lookup) (Result, error) {
	if strings.TrimSpace(req.Header) == "" {
		return Result{}, ErrNoCredentials
	}
	c, err := ParseCredentials(req.Header)
	if err != nil {
		return Result{}, err
	}
	alg, err := ParseAlgorithm(c.Algorithm)
	if err != nil {
		return Result{}, err
	}
	if !slices.Contains(a.algs, alg) {
		return Result{}, fmt.Errorf("%w: %s not enabled", ErrUnsupportedAlgorithm, alg)
	}
	nc := ""
	switch {
	case c.QOP == "":
	case strings.EqualFold(c.QOP, "auth"):
		nc = c.NC
	default:
		return Result{}, fmt.Errorf("%w: unsupported qop %q", ErrMalformed, c.QOP)
	}
	if !uriNamesTarget(c.URI, req) {
		return Result{}, fmt.Errorf("%w: %q vs %q", ErrURIMismatch, c.URI, req.RequestURI)
	}

	id, err := a.nonces.authenticate(c.Nonce)
	if err != nil {
		return Result{}, err
	}
	stale := a.nonces.checkID(id, nc, false) // as Validate
	if stale != nil && !errors.Is(stale, ErrStale) {
		return Result{}, stale
	}

	if req.Realm != "" && c.Realm != req.Realm {
		return Result{}, fmt.Errorf("%w: realm", ErrMismatch)
	}
	ha1, ok := lookup(c.Username, c.Realm, alg)
	if !ok {
		// Spend the same work as a real comparison.
		ha1 = strings.Repeat("0", alg.hexLen())
	}
	want := Response(alg, strings.ToLower(ha1), req.Method, c.URI, c.Nonce, c.NC, c.CNonce, c.QOP)
	got := strings.ToLower(c.Response)
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 || !ok {
		return Result{}, ErrMismatch
	}
	if stale != nil {
		return Result{}, stale
	}
	// Record the nonce-count now that the response verified. This re-checks,
	// so of two concurrent requests with the same nc only one wins.
	if err := a.nonces.checkID(id, nc, true); err != nil { // as Check
		return Result{}, err
	}
	return Result{Username: c.Username, Realm: c.Realm, Algorithm: alg}, nil
}

// uriNamesTarget reports whether the digest uri names the Request-URI
// (RFC 3261 section 22.4 item 1) or, per IsOwnHost or IsOwnURI, this
// server. SIP and SIPS URIs are compared with the Request-URI by scheme,
// user (case-sensitive), host (case-insensitive) and port; URI parameters
// and headers are ignored. Anything that does not parse as a SIP URI is
// compared as an exact string. The digest uri is parsed once, and the
// Request-URI not at all when req.Recipient holds it.
func uriNamesTarget(digestURI string, req Request) bool {
	if digestURI == req.RequestURI {
		return true
	}
	d, okd := parseSIPURI(digestURI)
	var r sip.Uri
	okr := false
	if req.Recipient != nil {
		r, okr = sipURI(*req.Recipient)
	} else {
		r, okr = parseSIPURI(req.RequestURI)
	}
	if okd && okr && sameURI(d, r) {
		return true
	}
	if req.IsOwnHost != nil {
		return okd && req.IsOwnHost(d.Host, d.Port)
	}
	return req.IsOwnURI != nil && req.IsOwnURI(digestURI)
}

// sameURI compares two normalised SIP URIs as uriNamesTarget does.
func sameURI(d, r sip.Uri) bool {
	return d.Scheme == r.Scheme && d.User == r.User &&
		strings.EqualFold(d.Host, r.Host) && d.Port == r.Port
}

// parseSIPURI parses a sip: or sips: URI with sipgo, which must not be able
// to crash authentication on hostile input.
func parseSIPURI(s string) (u sip.Uri, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	if err := sip.ParseUri(s, &u); err != nil {
		return sip.Uri{}, false
	}
	return sipURI(u)
}

// sipURI normalises a parsed URI for comparison: a sip: or sips: URI
// with a host, its scheme in lower case.
func sipURI(u sip.Uri) (sip.Uri, bool) {
	u.Scheme = strings.ToLower(u.Scheme)
	if (u.Scheme != "sip" && u.Scheme != "sips") || u.Host == "" || u.Wildcard {
		return sip.Uri{}, false
	}
	return u, true
}

// SelectCredentials picks which of several Authorization (or
// Proxy-Authorization) values to check: a client such as baresip answers a
// SHA-256 and an MD5 challenge for the same realm with one value each. It
// returns the first parseable value for realm (any realm when realm is "")
// using the earliest algorithm in prefer (nil means SHA-256, then MD5), else
// the first value, else "".
func SelectCredentials(values []string, realm string, prefer ...Algorithm) string {
	if len(prefer) == 0 {
		prefer = []Algorithm{SHA256, MD5}
	}
	best, bestRank := "", len(prefer)
	for _, v := range values {
		c, err := ParseCredentials(v)
		if err != nil || (realm != "" && c.Realm != realm) {
			continue
		}
		alg, err := ParseAlgorithm(c.Algorithm)
		if err != nil {
			continue
		}
		for i, p := range prefer[:bestRank] {
			if p == alg {
				best, bestRank = v, i
				break
			}
		}
	}
	if best == "" && len(values) > 0 {
		return values[0]
	}
	return best
}
