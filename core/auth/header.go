package auth

import (
	"fmt"
	"strings"
)

// maxHeaderLen bounds the size of a credentials value we are willing to parse.
const maxHeaderLen = 8192

// maxParams bounds the number of parameters in one value.
const maxParams = 64

// Credentials is one parsed Authorization / Proxy-Authorization value.
// Values are unquoted and unescaped; Algorithm is kept as sent (use
// [ParseAlgorithm]).
type Credentials struct {
	Username, Realm, Nonce, URI, Response, Algorithm, CNonce, QOP, NC, Opaque string
}

// ParseCredentials parses a header value such as
// `Digest username="alice", realm="localhost", ...`.
//
// The scheme and parameter names are case-insensitive; parameter values may be
// quoted strings (with \-escapes) or tokens. Unknown parameters are ignored.
// It returns an error wrapping [ErrMalformed] for anything that is not a
// well-formed Digest value: missing or empty username, realm, nonce, uri or
// response; a duplicated parameter; an unterminated quoted string; a response
// that is not hex; and, when qop is present, a missing cnonce or an nc that is
// not exactly 8 hex digits.
func ParseCredentials(value string) (Credentials, error) {
	var c Credentials
	params, err := parseDigest(value)
	if err != nil {
		return c, err
	}
	for _, p := range params {
		if dst := c.field(p.name); dst != nil {
			*dst = p.value
		}
	}
	for _, req := range [...]struct{ name, v string }{
		{"username", c.Username}, {"realm", c.Realm}, {"nonce", c.Nonce},
		{"uri", c.URI}, {"response", c.Response},
	} {
		if req.v == "" {
			return Credentials{}, fmt.Errorf("%w: missing %s", ErrMalformed, req.name)
		}
	}
	if !isHex(c.Response) {
		return Credentials{}, fmt.Errorf("%w: response is not hex", ErrMalformed)
	}
	if c.QOP != "" {
		if c.CNonce == "" {
			return Credentials{}, fmt.Errorf("%w: qop without cnonce", ErrMalformed)
		}
		if !validNC(c.NC) {
			return Credentials{}, fmt.Errorf("%w: nc must be 8 hex digits", ErrMalformed)
		}
	}
	return c, nil
}

// Challenge is one WWW-Authenticate / Proxy-Authenticate value. It always
// offers qop="auth".
type Challenge struct {
	Realm, Nonce, Opaque string
	Algorithm            Algorithm
	Stale                bool
	QOP                  string // as offered when parsed (String always offers "auth")
}

// String renders `Digest realm="r", nonce="n", opaque="o", algorithm=SHA-256,
// qop="auth"`, followed by `, stale=true` when Stale. Opaque is omitted when
// empty, algorithm when Algorithm is empty.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString(`Digest realm=`)
	b.WriteString(quote(c.Realm))
	b.WriteString(`, nonce=`)
	b.WriteString(quote(c.Nonce))
	if c.Opaque != "" {
		b.WriteString(`, opaque=`)
		b.WriteString(quote(c.Opaque))
	}
	if c.Algorithm != "" {
		b.WriteString(`, algorithm=`)
		b.WriteString(string(c.Algorithm))
	}
	b.WriteString(`, qop="auth"`)
	if c.Stale {
		b.WriteString(`, stale=true`)
	}
	return b.String()
}

// ParseChallenge parses a WWW-Authenticate / Proxy-Authenticate Digest value
// (the inverse of [Challenge.String]). realm and nonce are required; an
// unsupported algorithm wraps [ErrUnsupportedAlgorithm], anything else that is
// wrong wraps [ErrMalformed]. The qop parameter is not checked.
func ParseChallenge(value string) (Challenge, error) {
	params, err := parseDigest(value)
	if err != nil {
		return Challenge{}, err
	}
	var c Challenge
	var alg string
	var haveRealm bool
	for _, p := range params {
		switch p.name {
		case "realm":
			c.Realm, haveRealm = p.value, true
		case "nonce":
			c.Nonce = p.value
		case "opaque":
			c.Opaque = p.value
		case "algorithm":
			alg = p.value
		case "stale":
			c.Stale = strings.EqualFold(p.value, "true")
		case "qop":
			c.QOP = p.value
		}
	}
	if !haveRealm || c.Nonce == "" {
		return Challenge{}, fmt.Errorf("%w: challenge without realm or nonce", ErrMalformed)
	}
	if c.Algorithm, err = ParseAlgorithm(alg); err != nil {
		return Challenge{}, err
	}
	return c, nil
}

// field returns where the parameter called name goes (nil: ignored).
func (c *Credentials) field(name string) *string {
	switch name {
	case "username":
		return &c.Username
	case "realm":
		return &c.Realm
	case "nonce":
		return &c.Nonce
	case "uri":
		return &c.URI
	case "response":
		return &c.Response
	case "algorithm":
		return &c.Algorithm
	case "cnonce":
		return &c.CNonce
	case "qop":
		return &c.QOP
	case "nc":
		return &c.NC
	case "opaque":
		return &c.Opaque
	}
	return nil
}

type param struct{ name, value string }

// parseDigest checks the scheme and splits the parameter list. Names are
// lowercased; duplicates are an error.
func parseDigest(value string) ([]param, error) {
	if len(value) > maxHeaderLen {
		return nil, fmt.Errorf("%w: value longer than %d bytes", ErrMalformed, maxHeaderLen)
	}
	s := strings.TrimLeft(value, " \t\r\n")
	const scheme = "digest"
	if len(s) <= len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) || !isLWS(s[len(scheme)]) {
		return nil, fmt.Errorf("%w: not a Digest value", ErrMalformed)
	}
	s = s[len(scheme):]

	params := make([]param, 0, 12)
	for i := 0; ; {
		i = skipLWS(s, i)
		if i == len(s) {
			break
		}
		if s[i] == ',' { // empty list element (RFC 2616 #rule)
			i++
			continue
		}
		// name
		start := i
		for i < len(s) && isTokenChar(s[i]) {
			i++
		}
		if i == start {
			return nil, fmt.Errorf("%w: unexpected %q at offset %d", ErrMalformed, s[i], i)
		}
		name := strings.ToLower(s[start:i])
		i = skipLWS(s, i)
		if i == len(s) || s[i] != '=' {
			return nil, fmt.Errorf("%w: parameter %q without value", ErrMalformed, name)
		}
		i = skipLWS(s, i+1)
		// value
		var val string
		if i < len(s) && s[i] == '"' {
			var err error
			if val, i, err = unquote(s, i); err != nil {
				return nil, err
			}
		} else {
			start = i
			for i < len(s) && isValueChar(s[i]) {
				i++
			}
			val = s[start:i]
		}
		if len(params) == maxParams {
			return nil, fmt.Errorf("%w: more than %d parameters", ErrMalformed, maxParams)
		}
		for _, p := range params {
			if p.name == name {
				return nil, fmt.Errorf("%w: duplicate parameter %q", ErrMalformed, name)
			}
		}
		params = append(params, param{name, val})
		// separator
		i = skipLWS(s, i)
		if i < len(s) {
			if s[i] != ',' {
				return nil, fmt.Errorf("%w: expected ',' at offset %d", ErrMalformed, i)
			}
			i++
		}
	}
	if len(params) == 0 {
		return nil, fmt.Errorf("%w: no parameters", ErrMalformed)
	}
	return params, nil
}

// unquote reads the quoted string starting at s[i] == '"' and returns its
// unescaped content and the index after the closing quote. Control
// characters other than HTAB are rejected, escaped or not.
func unquote(s string, i int) (string, int, error) {
	// Fast path: no escapes and no control characters, a plain substring.
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		if c == '"' {
			return s[i+1 : j], j + 1, nil
		}
		if c == '\\' || c < 0x20 && c != '\t' || c == 0x7f {
			break
		}
	}
	var b strings.Builder
	for i++; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 == len(s) {
				return "", 0, fmt.Errorf("%w: unterminated quoted string", ErrMalformed)
			}
			i++
			c = s[i]
		}
		if c < 0x20 && c != '\t' || c == 0x7f {
			return "", 0, fmt.Errorf("%w: control character in quoted string", ErrMalformed)
		}
		b.WriteByte(c)
	}
	return "", 0, fmt.Errorf("%w: unterminated quoted string", ErrMalformed)
}

// quote renders s as a quoted-string, escaping '"' and '\'. Control
// characters other than HTAB cannot be represented and are dropped.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
		case c < 0x20 && c != '\t', c == 0x7f:
			continue
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}

func isLWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func skipLWS(s string, i int) int {
	for i < len(s) && isLWS(s[i]) {
		i++
	}
	return i
}

// isTokenChar reports whether c is in the RFC 3261 token set.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-.!%*_+`'~", c) >= 0
}

// isValueChar accepts, for unquoted values, any visible ASCII character except
// the separators that end a value. This is more lenient than token so that
// sloppy clients (for instance an unquoted uri) still parse.
func isValueChar(c byte) bool {
	return c > 0x20 && c < 0x7f && c != ',' && c != '"'
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func validNC(nc string) bool { return len(nc) == 8 && isHex(nc) }
