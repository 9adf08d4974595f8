package xmpp

import (
	"errors"
	"strings"
)

// escapable are the characters XEP-0106 escapes in a localpart, with their
// escape sequences (a backslash and two lowercase hex digits).
var escapable = map[byte]string{
	' ': `\20`, '"': `\22`, '&': `\26`, '\'': `\27`, '/': `\2f`,
	':': `\3a`, '<': `\3c`, '>': `\3e`, '@': `\40`, '\\': `\5c`,
}

// unescapable is escapable the other way round, keyed by the two hex digits.
var unescapable = map[string]byte{
	"20": ' ', "22": '"', "26": '&', "27": '\'', "2f": '/',
	"3a": ':', "3c": '<', "3e": '>', "40": '@', "5c": '\\',
}

// isEscape reports whether s begins with one of XEP-0106's ten escape
// sequences (after the backslash).
func isEscape(s string) bool {
	if len(s) < 2 {
		return false
	}
	_, ok := unescapable[s[:2]]
	return ok
}

// Escape applies XEP-0106 to a would-be localpart: the nine characters a
// localpart may not hold become \xx, and a backslash becomes \5c only where
// it starts something that reads as an escape sequence, so every other
// backslash stays as it is. Unescape(Escape(s)) == s for every s.
func Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && isEscape(s[i+1:]):
			b.WriteString(`\5c`)
		case c != '\\' && escapable[c] != "":
			b.WriteString(escapable[c])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Unescape undoes XEP-0106: each of the ten escape sequences (lowercase
// hex, as PRECIS leaves a localpart) becomes its character, read left to
// right without rescanning what it produced; any other backslash is kept.
// It is total: it never fails or panics, whatever the input. (mellium's
// jid.Unescape is not used: it produces wrong bytes and panics on some
// inputs.)
func Unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && isEscape(s[i+1:]) {
			b.WriteByte(unescapable[s[i+1:i+3]])
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

var errBadEscape = errors.New("bad percent escape")

// percentDecode undoes RFC 3986 percent-encoding; a '%' not followed by
// two hex digits is an error.
func percentDecode(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2]) {
			return "", errBadEscape
		}
		b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		i += 2
	}
	return b.String(), nil
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// RFC 3261 section 25.1: characters a user part, and a URI parameter
// value, may carry unescaped besides alphanumerics.
const (
	unreserved      = "-_.!~*'()"
	userUnreserved  = "&=+$,;?/"
	paramUnreserved = "[]/:&+$"
)

func encodeUser(s string) string  { return percentEncode(s, unreserved+userUnreserved) }
func encodeParam(s string) string { return percentEncode(s, unreserved+paramUnreserved) }

// percentEncode escapes every byte of s that is not alphanumeric or in
// keep, as %XX.
func percentEncode(s, keep string) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdig[c>>4])
		b.WriteByte(hexdig[c&15])
	}
	return b.String()
}
