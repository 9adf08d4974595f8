package contract

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// MatchClaim reports whether a Request-URI matches a claim pattern:
// "*@xmpp.example.net" (user@host, any scheme of sip/sips), "tel:+1*"
// (a tel: number prefix), "sip:+1*@*" (scheme, user and host patterns).
// A "*" matches any run of characters; matching ignores case.
func MatchClaim(pattern string, u sip.Uri) bool {
	pattern = strings.ToLower(strings.TrimSpace(pattern))
	scheme := strings.ToLower(u.Scheme)
	if scheme == "" {
		scheme = "sip"
	}
	if ps, rest, ok := strings.Cut(pattern, ":"); ok && (ps == "sip" || ps == "sips" || ps == "tel") {
		if ps != scheme {
			return false
		}
		pattern = rest
	} else if scheme == "tel" {
		return false // a bare user@host pattern is about sip URIs
	}
	if scheme == "tel" {
		return glob(pattern, PhoneNumber(u))
	}
	pu, ph, ok := strings.Cut(pattern, "@")
	if !ok { // a host alone
		pu, ph = "*", pu
	}
	return glob(pu, strings.ToLower(u.User)) && glob(ph, strings.ToLower(u.Host))
}

// MatchAny reports whether a pattern of any of the lists claims u
// (MatchClaim): a chain entry's claims and its plugin's, say.
func MatchAny(u sip.Uri, lists ...[]string) bool {
	for _, list := range lists {
		for _, pat := range list {
			if MatchClaim(pat, u) {
				return true
			}
		}
	}
	return false
}

// glob matches s against a pattern where '*' is any run of characters.
func glob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// PhoneNumber is the number a tel: URI or a user=phone SIP URI names,
// reduced to '+' and digits (visual separators and parameters dropped),
// or "" when u names no phone number.
func PhoneNumber(u sip.Uri) string {
	var raw string
	switch {
	case u.Scheme == "tel":
		// sipgo keeps a tel: URI's number only in its string form.
		raw = strings.TrimPrefix(u.String(), "tel:")
	case u.UriParams.GetOr("user", "") == "phone":
		raw = u.User
	default:
		return ""
	}
	if i := strings.IndexByte(raw, ';'); i >= 0 {
		raw = raw[:i]
	}
	var b strings.Builder
	for _, c := range raw {
		if c == '+' || (c >= '0' && c <= '9') {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// IsPhone reports whether u names a phone number.
func IsPhone(u sip.Uri) bool { return PhoneNumber(u) != "" || u.Scheme == "tel" }
