package siputil

import (
	"io"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Response builds a locally generated response to req. Final responses
// other than 100 get a To tag when the request had none (RFC 3261
// section 8.2.6.2), so the UAC can match them to the transaction.
func Response(req *sip.Request, code int, reason string, hdrs ...sip.Header) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	res.SipVersion = "SIP/2.0" // sipgo copies the request's, which may be SIP/7.0 (505)
	if code > 100 {
		if to := res.To(); to != nil {
			if _, ok := to.Params.Get("tag"); !ok {
				to.Params.Add("tag", sip.GenerateTagN(16))
			}
		}
	}
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	return res
}

// AOR returns "user@host" for a SIP URI, with the host lower-cased.
func AOR(u sip.Uri) string {
	return u.User + "@" + strings.ToLower(u.Host)
}

// HeaderGetter is a message's header access.
type HeaderGetter interface{ GetHeader(name string) sip.Header }

// HeaderValue returns the trimmed value of the first header called name.
func HeaderValue(m HeaderGetter, name string) string {
	if h := m.GetHeader(name); h != nil {
		return strings.TrimSpace(h.Value())
	}
	return ""
}

// Uint parses a non-negative decimal header value.
func Uint(s string) (uint64, bool) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	return v, err == nil
}

// IsInitial reports whether req is outside any dialog (no To tag).
func IsInitial(req *sip.Request) bool {
	to := req.To()
	if to == nil {
		return true
	}
	_, ok := to.Params.Get("tag")
	return !ok
}

// Unquote removes surrounding double quotes and angle brackets, as in
// +sip.instance="<urn:uuid:...>".
func Unquote(s string) string {
	s = strings.Trim(s, `"`)
	return strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
}

// WriteRelayed writes res as a proxy relays it to the previous hop:
// byte for byte as sipgo serialises it (StringWrite), but without its
// top Via (the proxy's own). It leaves res untouched, so a proxy needs
// no copy of a response it relays.
func WriteRelayed(w io.StringWriter, res *sip.Response) {
	res.StartLineWrite(w)
	w.WriteString("\r\n")
	skipped, first := false, true
	for _, h := range res.Headers() {
		if !skipped && strings.EqualFold(h.Name(), "Via") {
			skipped = true
			continue
		}
		if !first {
			w.WriteString("\r\n")
		}
		first = false
		h.StringWrite(w)
	}
	w.WriteString("\r\n\r\n")
	if b := res.Body(); b != nil {
		w.WriteString(string(b))
	}
}

// Headers returns msg's headers called name, in any letter case. sipgo's
// GetHeaders lower-cases the name of every header in the message to
// compare, which allocates for each one outside its short list of common
// names; this compares without allocating.
func Headers(msg interface{ Headers() []sip.Header }, name string) []sip.Header {
	var out []sip.Header
	for _, h := range msg.Headers() {
		if strings.EqualFold(h.Name(), name) {
			out = append(out, h)
		}
	}
	return out
}

// HasHeader reports whether msg has a header called name (any case).
func HasHeader(msg interface{ Headers() []sip.Header }, name string) bool {
	for _, h := range msg.Headers() {
		if strings.EqualFold(h.Name(), name) {
			return true
		}
	}
	return false
}
