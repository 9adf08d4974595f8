package xmpp

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"mellium.im/xmpp/jid"
)

// Address errors. Each wraps into "xmpp: address ...: %w" with the cause;
// SIPCode and Condition (errors.go) turn them into the answer to send.
var (
	// ErrAddressSyntax: not a well-formed SIP URI or JID (a bad percent
	// escape, a password, a control character): SIP 400, <jid-malformed/>.
	ErrAddressSyntax = errors.New("malformed address")
	// ErrAddressScheme: a URI scheme other than sip or sips: SIP 416,
	// <jid-malformed/>.
	ErrAddressScheme = errors.New("unsupported URI scheme")
	// ErrNoUser: no user part (SIP) or localpart (JID): the address names a
	// server, not a person: SIP 404, <item-not-found/>.
	ErrNoUser = errors.New("address has no user part")
	// ErrAddressTooLong: a localpart, domainpart or resourcepart over
	// 1,023 octets (RFC 7622 section 3.1): SIP 414, <jid-malformed/>.
	ErrAddressTooLong = errors.New("address part over 1023 octets")
	// ErrUnmappable: well-formed on one side, but with no valid form on
	// the other (PRECIS refuses a character, a localpart that would begin
	// or end with a space, bytes that are not UTF-8, a temporary GRUU): SIP
	// 404 (no such user can exist there), <jid-malformed/>.
	ErrUnmappable = errors.New("address cannot be mapped")
)

// MaxPartBytes is RFC 7622's limit on each part of a JID.
const MaxPartBytes = 1023

// SIPAddress is a SIP address of record as the gateway sees it, every part
// decoded: sip:User@Host, and GRUU, the ;gr= parameter of a public GRUU
// (RFC 5627), which maps to an XMPP resource.
type SIPAddress struct {
	User string // percent-decoded user part
	Host string // lowercase host, without port
	GRUU string // percent-decoded value of ;gr=, empty for none
}

// String writes the address as a sip: URI, percent-encoding the user part
// and the gr parameter where RFC 3261's grammar requires it.
func (a SIPAddress) String() string {
	s := "sip:" + encodeUser(a.User) + "@" + a.Host
	if a.GRUU != "" {
		s += ";gr=" + encodeParam(a.GRUU)
	}
	return s
}

// AOR is user@host, the form the plugin SDK's host services take.
func (a SIPAddress) AOR() string { return a.User + "@" + a.Host }

// ParseSIPAddress reads a sip: or sips: URI (angle brackets allowed).
// The port and every parameter but gr are dropped: they say how to reach
// a SIP hop, not who the person is. A ;gr without a value (a temporary
// GRUU) has no XMPP form and is refused.
func ParseSIPAddress(uri string) (SIPAddress, error) {
	s := strings.TrimSpace(uri)
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s = s[1 : len(s)-1]
	}
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok {
		return SIPAddress{}, addrErr(uri, ErrAddressSyntax, "no scheme")
	}
	if sc := strings.ToLower(scheme); sc != "sip" && sc != "sips" {
		return SIPAddress{}, addrErr(uri, ErrAddressScheme, scheme)
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"' {
			return SIPAddress{}, addrErr(uri, ErrAddressSyntax, "forbidden character")
		}
	}
	at := strings.IndexByte(rest, '@')
	if at < 0 {
		return SIPAddress{}, addrErr(uri, ErrNoUser, "")
	}
	rawUser, hostpart := rest[:at], rest[at+1:]
	if strings.ContainsAny(rawUser, ":@") {
		return SIPAddress{}, addrErr(uri, ErrAddressSyntax, "password or stray '@' in the user part")
	}
	user, err := percentDecode(rawUser)
	if err != nil {
		return SIPAddress{}, addrErr(uri, ErrAddressSyntax, err.Error())
	}
	if user == "" {
		return SIPAddress{}, addrErr(uri, ErrNoUser, "")
	}
	hostport, params, _ := strings.Cut(hostpart, ";")
	hostport, _, _ = strings.Cut(hostport, "?")
	params, _, _ = strings.Cut(params, "?")
	host := hostport
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return SIPAddress{}, addrErr(uri, ErrAddressSyntax, "unterminated IPv6 reference")
		}
		host = host[:end+1]
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	if !validHost(host) {
		return SIPAddress{}, addrErr(uri, ErrAddressSyntax, "bad host")
	}
	a := SIPAddress{User: user, Host: strings.ToLower(host)}
	for _, p := range strings.Split(params, ";") {
		name, value, hasValue := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(name), "gr") {
			continue
		}
		if !hasValue || value == "" {
			return SIPAddress{}, addrErr(uri, ErrUnmappable, "temporary GRUU (;gr without a value)")
		}
		if a.GRUU, err = percentDecode(value); err != nil {
			return SIPAddress{}, addrErr(uri, ErrAddressSyntax, err.Error())
		}
	}
	return a, nil
}

// JID maps the address to a JID (RFC 7247 section 6.1): the decoded user
// part, XEP-0106-escaped, becomes the localpart (PRECIS folds its case),
// the host the domainpart, the GRUU the resourcepart.
func (a SIPAddress) JID() (jid.JID, error) {
	switch {
	case a.User == "":
		return jid.JID{}, addrErr(a.String(), ErrNoUser, "")
	case !utf8.ValidString(a.User) || !utf8.ValidString(a.GRUU):
		return jid.JID{}, addrErr(a.String(), ErrUnmappable, "not UTF-8")
	case strings.HasPrefix(a.User, " ") || strings.HasSuffix(a.User, " "):
		return jid.JID{}, addrErr(a.String(), ErrUnmappable, "user part begins or ends with a space (XEP-0106)")
	}
	local := Escape(a.User)
	if len(local) > MaxPartBytes || len(a.Host) > MaxPartBytes || len(a.GRUU) > MaxPartBytes {
		return jid.JID{}, addrErr(a.String(), ErrAddressTooLong, "")
	}
	j, err := jid.New(local, a.Host, a.GRUU)
	if err != nil {
		return jid.JID{}, addrErr(a.String(), ErrUnmappable, err.Error())
	}
	return j, nil
}

// ParseJID reads a JID string, refusing what RFC 7622 refuses.
func ParseJID(s string) (jid.JID, error) {
	local, domain, resource, err := jid.SplitString(s)
	if err != nil {
		return jid.JID{}, addrErr(s, ErrAddressSyntax, err.Error())
	}
	if len(local) > MaxPartBytes || len(domain) > MaxPartBytes || len(resource) > MaxPartBytes {
		return jid.JID{}, addrErr(s, ErrAddressTooLong, "")
	}
	j, err := jid.New(local, domain, resource)
	if err != nil {
		return jid.JID{}, addrErr(s, ErrAddressSyntax, err.Error())
	}
	return j, nil
}

// SIPFromJID maps a JID to a SIP address (RFC 7247 section 6.2): the
// localpart XEP-0106-unescaped becomes the user part (percent-encoded by
// String), the domainpart the host (as A-labels), the resourcepart the
// ;gr= parameter. A JID without a localpart is a server: ErrNoUser.
func SIPFromJID(j jid.JID) (SIPAddress, error) {
	if j.Localpart() == "" {
		return SIPAddress{}, addrErr(j.String(), ErrNoUser, "")
	}
	host, err := asciiHost(j.Domainpart())
	if err != nil || host == "" {
		return SIPAddress{}, addrErr(j.String(), ErrUnmappable, "domain has no ASCII form")
	}
	return SIPAddress{User: Unescape(j.Localpart()), Host: strings.ToLower(host), GRUU: j.Resourcepart()}, nil
}

// validHost: an IP literal or a host name of RFC 3261's grammar (labels
// of letters, digits and inner hyphens; no trailing dot).
func validHost(h string) bool {
	if strings.HasPrefix(h, "[") {
		ip := net.ParseIP(strings.TrimSuffix(h[1:], "]"))
		return strings.HasSuffix(h, "]") && ip != nil && ip.To4() == nil
	}
	if h == "" || len(h) > MaxPartBytes {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// asciiHost is the SIP form of a domainpart: IP literals as they are,
// names as A-labels.
func asciiHost(d string) (string, error) {
	if strings.HasPrefix(d, "[") || net.ParseIP(d) != nil {
		return d, nil
	}
	return idna.Lookup.ToASCII(d)
}

func addrErr(addr string, sentinel error, detail string) error {
	if len(addr) > 80 {
		addr = addr[:80] + "..."
	}
	if detail != "" {
		return fmt.Errorf("xmpp: address %q: %s: %w", addr, detail, sentinel)
	}
	return fmt.Errorf("xmpp: address %q: %w", addr, sentinel)
}
