package contract

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// The change rules: what a verdict may carry and change. Everything a
// plugin sends is held to them before the node applies it.
const (
	MaxHeaders    = 32       // header changes (or response headers) per verdict
	MaxTargets    = 16       // targets per verdict
	MaxHeaderLen  = 4096     // bytes of one header value
	MaxReasonLen  = 256      // bytes of a reason phrase
	MaxBody       = 64 << 10 // bytes of a body a verdict sets
	MaxHeaderName = 64       // bytes of a header name
)

// ErrBadChange: a verdict breaks the change rules.
var ErrBadChange = errors.New("contract: change not allowed")

// protected headers an application may neither add nor remove: they
// identify the transaction and the message framing.
var protected = map[string]bool{
	"via": true, "v": true, "call-id": true, "i": true, "cseq": true, "from": true, "f": true,
	"to": true, "t": true, "content-length": true, "l": true, "max-forwards": true,
	"content-type": true, "c": true, // changed only with the body
}

// Protected reports whether an application may neither add nor remove the
// header name (Content-Type changes only with the body).
func Protected(name string) bool { return protected[strings.ToLower(name)] }

// CheckHeaderName accepts an RFC 3261 token of at most MaxHeaderName
// bytes that names no protected header.
func CheckHeaderName(name string) error {
	if name == "" || len(name) > MaxHeaderName {
		return fmt.Errorf("%w: header name %q", ErrBadChange, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && !strings.ContainsRune("-.!%*_+`'~", rune(c)) {
			return fmt.Errorf("%w: header name %q", ErrBadChange, name)
		}
	}
	if Protected(name) {
		return fmt.Errorf("%w: header %s may not be changed by a plugin", ErrBadChange, name)
	}
	return nil
}

// CleanValue reports whether s is printable UTF-8 on one line of at most
// max bytes.
func CleanValue(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}

// ParseTarget parses a sip, sips or tel URI an application named as a
// target or Request-URI.
func ParseTarget(s string) (sip.Uri, error) {
	var u sip.Uri
	s = strings.TrimSpace(s)
	if !CleanValue(s, MaxHeaderLen) || strings.ContainsAny(s, "<> ,") {
		return u, fmt.Errorf("%w: uri %q", ErrBadChange, s)
	}
	if err := sip.ParseUri(s, &u); err != nil {
		return u, fmt.Errorf("%w: uri %q: %w", ErrBadChange, s, err)
	}
	if (u.Scheme != "sip" && u.Scheme != "sips" && u.Scheme != "tel") || (u.Scheme != "tel" && u.Host == "") {
		return u, fmt.Errorf("%w: uri %q", ErrBadChange, s)
	}
	return u, nil
}
