package xcap

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// errNoResource: the path names nothing this server serves (404).
var errNoResource = errors.New("xcap: no such resource")

// errBadXUI: the xui is not a SIP URI.
var errBadXUI = errors.New("xcap: xui is not a SIP URI")

// target is a parsed XCAP request URI.
type target struct {
	usage      *usage
	xui        string // canonical; "" for a global document
	user, host string // of the xui
	doc        string // document path below the xui (or global/)
	selector   string // percent-decoded node selector, "" for none
	hasSel     bool
	docURI     string // escaped path of the document, for no-parent ancestors
}

// parseTarget splits an escaped request path into an XCAP target. root
// has a leading slash and no trailing one.
func parseTarget(root, escapedPath string) (target, error) {
	rest, ok := strings.CutPrefix(escapedPath, root+"/")
	if !ok {
		return target{}, errNoResource
	}
	segs := strings.Split(rest, "/")
	dec := make([]string, len(segs))
	for i, s := range segs {
		d, err := url.PathUnescape(s)
		if err != nil {
			return target{}, fmt.Errorf("%w: %v", errNoResource, err)
		}
		dec[i] = d
	}
	if len(dec) < 3 {
		return target{}, errNoResource
	}
	var t target
	if t.usage = usages[dec[0]]; t.usage == nil {
		return target{}, errNoResource
	}
	next := 2
	switch {
	case dec[1] == "global" && t.usage.global:
	case dec[1] == "users" && !t.usage.global && len(dec) >= 4:
		xui, err := CanonicalXUI(dec[2])
		if err != nil {
			return target{}, fmt.Errorf("%w: %v", errNoResource, err)
		}
		t.xui = xui
		t.user, t.host, _ = parseXUI(xui)
		next = 3
	default:
		return target{}, errNoResource
	}
	end := len(dec)
	for i := next; i < len(dec); i++ {
		if dec[i] == "~~" {
			end = i
			break
		}
	}
	for _, s := range dec[next:end] {
		if s == "" || s == "." || s == ".." || s == "~~" {
			return target{}, errNoResource
		}
	}
	if end == next {
		return target{}, errNoResource
	}
	t.doc = strings.Join(dec[next:end], "/")
	if t.usage.global && t.doc != "index" {
		return target{}, errNoResource
	}
	t.docURI = root + "/" + strings.Join(segs[:end], "/")
	if end < len(dec) {
		sel, err := url.PathUnescape(strings.Join(segs[end+1:], "/"))
		if err != nil || sel == "" {
			return target{}, fmt.Errorf("%w: empty or badly escaped", errSelector)
		}
		t.selector, t.hasSel = sel, true
	}
	return t, nil
}

// parseXMLNS parses the query of a node selector URI: a sequence of
// XPointer xmlns(prefix=namespace) parts (RFC 4825 section 6.4).
func parseXMLNS(rawQuery string) (map[string]string, error) {
	q, err := url.PathUnescape(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: bad query escaping", errSelector)
	}
	ns := map[string]string{}
	for {
		q = strings.TrimLeft(q, " \t")
		if q == "" {
			return ns, nil
		}
		rest, ok := strings.CutPrefix(q, "xmlns(")
		if !ok {
			return nil, fmt.Errorf("%w: query is not xmlns(prefix=namespace)", errSelector)
		}
		prefix, rest, ok := strings.Cut(rest, "=")
		prefix = strings.TrimSpace(prefix)
		if !ok || !isNCName(prefix) || prefix == "xml" || prefix == "xmlns" {
			return nil, fmt.Errorf("%w: bad prefix in xmlns()", errSelector)
		}
		var b strings.Builder
		i := 0
		for ; i < len(rest) && rest[i] != ')'; i++ {
			if rest[i] == '^' && i+1 < len(rest) && strings.IndexByte("()^", rest[i+1]) >= 0 {
				i++ // XPointer escape
			}
			b.WriteByte(rest[i])
		}
		if i == len(rest) {
			return nil, fmt.Errorf("%w: unterminated xmlns()", errSelector)
		}
		ns[prefix] = strings.TrimSpace(b.String())
		q = rest[i+1:]
	}
}

// CanonicalXUI returns the form documents are stored under for a SIP URI
// xui: "sip:" + user + "@" + lowercase domain, without port, parameters or
// headers, the user part percent-encoded only where RFC 3261 requires.
// "sips:" and a missing scheme are taken as "sip:".
func CanonicalXUI(xui string) (string, error) {
	user, host, err := parseXUI(xui)
	if err != nil {
		return "", err
	}
	return "sip:" + escapeUser(user) + "@" + host, nil
}

// parseXUI returns the unescaped user part and the lowercase host of a
// SIP URI.
func parseXUI(xui string) (user, host string, err error) {
	s := xui
	if i := strings.IndexByte(s, ':'); i >= 0 && i < strings.IndexByte(s, '@') {
		scheme := strings.ToLower(s[:i])
		if scheme != "sip" && scheme != "sips" {
			return "", "", fmt.Errorf("%w: scheme %q", errBadXUI, scheme)
		}
		s = s[i+1:]
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return "", "", fmt.Errorf("%w: %q has no user part", errBadXUI, xui)
	}
	user, err = url.PathUnescape(s[:at])
	if err != nil || strings.ContainsAny(user, "@") || strings.IndexFunc(user, isCtl) >= 0 {
		return "", "", fmt.Errorf("%w: bad user part in %q", errBadXUI, xui)
	}
	host = s[at+1:]
	if i := strings.IndexAny(host, ";?"); i >= 0 {
		host = host[:i]
	}
	host = strings.ToLower(host)
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return "", "", fmt.Errorf("%w: bad host in %q", errBadXUI, xui)
		}
		host = host[:end+1]
	} else if i := strings.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	if host == "" || strings.Trim(host, "abcdefghijklmnopqrstuvwxyz0123456789.-[]:") != "" {
		return "", "", fmt.Errorf("%w: bad host in %q", errBadXUI, xui)
	}
	return user, host, nil
}

func isCtl(r rune) bool { return r < 0x20 || r == 0x7f }

// escapeUser percent-encodes what RFC 3261 does not allow unescaped in
// the user part of a SIP URI.
func escapeUser(user string) string {
	const keep = "-_.!~*'()&=+$,;?/"
	var b strings.Builder
	for i := 0; i < len(user); i++ {
		c := user[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
