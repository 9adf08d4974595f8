// Package auth implements SIP digest authentication for Parley: RFC 3261
// section 22 on top of RFC 2617 digest with qop=auth, and the SHA-256
// algorithm of RFC 8760 (with the hashing rules of RFC 7616).
//
// The package is split into small, independently usable pieces:
//
//   - [HA1] and [Response] compute the digest values.
//   - [ParseCredentials] parses an Authorization or Proxy-Authorization value,
//     [Challenge] renders a WWW-Authenticate or Proxy-Authenticate value.
//   - [Nonces] mints stateless, self-validating nonces (HMAC over a timestamp
//     and random bytes, so any node sharing the secret can check them) and
//     remembers the highest nonce-count seen per nonce to stop replays.
//   - [Authenticator] ties these together for the SIP core.
//   - [Throttle] slows down answers to sources that keep failing.
//
// Only the "auth" quality of protection and the MD5 and SHA-256 algorithms are
// supported; "auth-int", "-sess" variants and RFC 7616 userhash are not.
// Nothing in this package logs.
package auth

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Errors returned (wrapped) by this package. Compare with [errors.Is].
var (
	// ErrMalformed: the credentials (or a nonce-count) are not well formed.
	ErrMalformed = errors.New("auth: malformed credentials")
	// ErrStale: the nonce is authentic but expired (or can no longer be
	// tracked); re-challenge with stale=true.
	ErrStale = errors.New("auth: stale nonce")
	// ErrInvalidNonce: the nonce was not minted with our secret.
	ErrInvalidNonce = errors.New("auth: invalid nonce")
	// ErrReplay: the nonce-count was not greater than one already accepted.
	ErrReplay = errors.New("auth: replayed nonce count")
	// ErrMismatch: wrong response, unknown user or wrong realm. Which one is
	// deliberately not revealed.
	ErrMismatch = errors.New("auth: credentials do not match")
	// ErrNoCredentials: the request carried no credentials.
	ErrNoCredentials = errors.New("auth: no credentials")
	// ErrUnsupportedAlgorithm: an algorithm other than MD5 or SHA-256 (or one
	// not enabled in the Authenticator's Config).
	ErrUnsupportedAlgorithm = errors.New("auth: unsupported algorithm")
	// ErrURIMismatch: the digest uri names neither the Request-URI nor this
	// server.
	ErrURIMismatch = errors.New("auth: digest uri does not match request uri")
)

// Algorithm is a digest algorithm name as it appears on the wire.
type Algorithm string

// Supported algorithms.
const (
	MD5    Algorithm = "MD5"
	SHA256 Algorithm = "SHA-256"
)

// ParseAlgorithm maps an algorithm parameter value to an Algorithm. The match
// is case-insensitive and the empty string means MD5 (RFC 2617 section 3.2.1).
// Any other value, including the "-sess" variants, wraps
// ErrUnsupportedAlgorithm.
func ParseAlgorithm(s string) (Algorithm, error) {
	switch {
	case s == "" || strings.EqualFold(s, string(MD5)):
		return MD5, nil
	case strings.EqualFold(s, string(SHA256)):
		return SHA256, nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, s)
}

// newHash returns the hash for alg, or nil when alg is not supported.
func (alg Algorithm) newHash() hash.Hash {
	switch alg {
	case MD5:
		return md5.New()
	case SHA256:
		return sha256.New()
	}
	return nil
}

// hexLen is the length of a lowercase hex digest for alg (0 if unsupported).
func (alg Algorithm) hexLen() int {
	if h := alg.newHash(); h != nil {
		return 2 * h.Size()
	}
	return 0
}

// h returns lowercase hex(H(parts joined by ":")), or "" when alg is not
// supported. The joined input is built in a stack buffer and hashed with
// the one-shot sum functions, so a short input allocates only the hex
// string (it runs twice for every digest check).
func h(alg Algorithm, parts ...string) string {
	var stack [512]byte
	b := stack[:0]
	for i, p := range parts {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, p...)
	}
	switch alg {
	case MD5:
		sum := md5.Sum(b)
		return hex.EncodeToString(sum[:])
	case SHA256:
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:])
	}
	return ""
}

// HA1 returns hex(H(username ":" realm ":" password)) for the algorithm, the
// value to store per user and algorithm instead of the password. It returns ""
// for an unsupported algorithm.
func HA1(alg Algorithm, username, realm, password string) string {
	return h(alg, username, realm, password)
}

// Response computes the expected digest response from HA1 (lowercase hex):
// with qop != "" it is H(HA1:nonce:nc:cnonce:qop:H(method:uri)) (RFC 2617
// section 3.2.2.1), otherwise the RFC 2069 form H(HA1:nonce:H(method:uri)).
// uri must be the digest uri parameter exactly as the client sent it. It
// returns "" for an unsupported algorithm.
func Response(alg Algorithm, ha1, method, uri, nonce, nc, cnonce, qop string) string {
	ha2 := h(alg, method, uri)
	if ha2 == "" {
		return ""
	}
	if qop != "" {
		return h(alg, ha1, nonce, nc, cnonce, qop, ha2)
	}
	return h(alg, ha1, nonce, ha2)
}
