package rules

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/contract"
)

// protected are headers the transaction and dialog layers own; rules may
// neither add nor remove them (compact forms included).
var protected = func() map[string]bool {
	m := make(map[string]bool)
	for _, h := range []string{
		"via", "v", "from", "f", "to", "t", "call-id", "i", "cseq",
		"max-forwards", "content-length", "l", "content-type", "c",
		"contact", "m", "route", "record-route",
	} {
		m[h] = true
	}
	return m
}()

// checkAction validates a and fills in defaults (a redirect's code, a
// response's standard reason phrase).
func checkAction(a *Action) error {
	var allowed string // fields the kind uses besides Kind
	switch a.Kind {
	case KindRespond:
		allowed = "code reason"
		if a.Code < 200 || a.Code > 699 {
			return fmt.Errorf("code %d: must be 200-699", a.Code)
		}
		if a.Reason == "" {
			a.Reason = contract.Reason(a.Code)
		}
	case KindRedirect:
		allowed = "code target"
		if a.Code == 0 {
			a.Code = 302
		}
		if a.Code != 302 {
			return fmt.Errorf("code %d: a redirect is a 302 (use respond for other codes)", a.Code)
		}
		if err := checkURI(a.Target, true); err != nil {
			return fmt.Errorf("target %q: %w", a.Target, err)
		}
	case KindRoute:
		allowed = "target"
		if err := checkURI(a.Target, false); err != nil {
			return fmt.Errorf("target %q: %w", a.Target, err)
		}
	case KindAddHeader, KindRemoveHeader:
		allowed = "header"
		if a.Kind == KindAddHeader {
			allowed = "header value"
		}
		if err := checkHeaderName(a.Header); err != nil {
			return fmt.Errorf("header %q: %w", a.Header, err)
		}
		if bad := badText(a.Value, true); bad != "" {
			return errors.New("value " + bad)
		}
	case KindLog:
		allowed = "message"
		if a.Message == "" {
			return errors.New("message is empty")
		}
		if bad := badText(a.Message, true); bad != "" {
			return errors.New("message " + bad)
		}
	case "":
		return errors.New("kind is empty")
	default:
		return fmt.Errorf("unknown kind %q (want respond, redirect, route, add-header, remove-header or log)", a.Kind)
	}
	if bad := badText(a.Reason, true); bad != "" {
		return errors.New("reason " + bad)
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"code", a.Code != 0}, {"reason", a.Reason != ""}, {"target", a.Target != ""},
		{"header", a.Header != ""}, {"value", a.Value != ""}, {"message", a.Message != ""},
	} {
		if f.set && !strings.Contains(" "+allowed+" ", " "+f.name+" ") {
			return fmt.Errorf("field %q is not used by %s", f.name, a.Kind)
		}
	}
	return nil
}

// checkURI accepts a sip: or sips: URI with a host, or with tel a tel: URI
// with a number.
func checkURI(s string, tel bool) error {
	if s == "" {
		return errors.New("is empty")
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '<' || r == '>' || r == '"' {
			return fmt.Errorf("contains %q", r)
		}
	}
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return fmt.Errorf("not a URI: %v", err)
	}
	switch u.Scheme {
	case "sip", "sips":
		if u.Host == "" {
			return errors.New("no host")
		}
		return nil
	case "tel":
		if !tel {
			return errors.New("a route's next hop must be a sip: or sips: URI")
		}
		num, _, _ := strings.Cut(s[len("tel:"):], ";")
		if num == "" || strings.Trim(num, "0123456789abcdefABCDEF*#+-.()") != "" {
			return fmt.Errorf("bad telephone number %q", num)
		}
		return nil
	}
	if tel {
		return errors.New("not a sip:, sips: or tel: URI")
	}
	return errors.New("not a sip: or sips: URI")
}

// checkHeaderName accepts an RFC 3261 token a rule may add or remove.
func checkHeaderName(h string) error {
	if h == "" {
		return errors.New("is empty")
	}
	for i := 0; i < len(h); i++ {
		if !isToken(h[i]) {
			return fmt.Errorf("%q is not a token character", h[i])
		}
	}
	if protected[strings.ToLower(h)] {
		return errors.New("is owned by the SIP stack and cannot be changed by a rule")
	}
	return nil
}

func isToken(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-.!%*_+`'~", c) >= 0
}

// badText says what is wrong with s as text that goes on a header line or
// a log line (invalid UTF-8, control characters; tab too unless tab), or
// "" if nothing.
func badText(s string, tab bool) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if (r < ' ' && !(tab && r == '\t')) || r == 0x7f {
			return fmt.Sprintf("contains control character %q", r)
		}
	}
	return ""
}

// oneLine folds a multi-line message onto one line for logs.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
