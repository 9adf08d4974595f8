package pipeline

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/siputil"
)

// maxBody bounds request bodies we accept (pages of IM, SDP, PIDF).
const maxBody = 64 << 10

// maxHeader bounds one header field value.
const maxHeader = 4 << 10

// supported lists the option tags we understand in Require.
var supported = map[string]bool{"path": true, "outbound": true, "gruu": false}

// validate applies RFC 3261 16.3 request validation; false means a
// response was sent.
func (p *Pipeline) validate(c *call) bool {
	if code, reason, hdrs := p.invalid(c.req); code != 0 {
		p.respond(c, code, reason, hdrs...)
		return false
	}
	return true
}

// invalid returns the error response a request that fails validation gets
// (code 0: the request is valid). It has no side effects, so the stateless
// challenge (stateless.go) can ask it first.
func (p *Pipeline) invalid(req *sip.Request) (code int, reason string, hdrs []sip.Header) {
	if req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil || req.Via() == nil {
		return 400, "Bad Request (missing From, To, Call-ID, CSeq or Via)", nil
	}
	if req.CSeq().MethodName != req.Method {
		return 400, "Bad Request (CSeq method does not match)", nil
	}
	switch req.Recipient.Scheme {
	case "sip", "sips", "tel":
	default:
		return 416, "Unsupported URI Scheme", nil
	}
	if len(req.Body()) > maxBody {
		return 413, "Request Entity Too Large", nil
	}
	var n lenCounter
	for _, h := range req.Headers() {
		if valueLen(h, &n) > maxHeader {
			return 400, "Bad Request (header " + h.Name() + " too long)", nil
		}
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		return 483, "Too Many Hops", nil
	}
	if p.ownVias(req) >= maxSpirals {
		return 482, "Loop Detected", nil
	}
	if unsup := unsupported(req, "Proxy-Require"); len(unsup) > 0 {
		return 420, "Bad Extension", []sip.Header{sip.NewHeader("Unsupported", strings.Join(unsup, ", "))}
	}
	if req.Method == sip.REGISTER || req.Method == sip.OPTIONS && req.Recipient.User == "" {
		if unsup := unsupported(req, "Require"); len(unsup) > 0 {
			return 420, "Bad Extension", []sip.Header{sip.NewHeader("Unsupported", strings.Join(unsup, ", "))}
		}
	}
	return 0, "", nil
}

// maxSpirals is how many of our own Vias a request may carry: a request
// may legitimately come back through us (a spiral, e.g. through a
// gateway), but not again and again. Max-Forwards bounds the rest.
const maxSpirals = 3

// ownVias counts the Via entries naming one of our listeners.
func (p *Pipeline) ownVias(req *sip.Request) int {
	n := 0
	for _, h := range req.Headers() { // by type: GetHeaders lower-cases every header's name
		if v, ok := h.(*sip.ViaHeader); ok && p.cfg.Listeners.IsOwn(v.Host, v.Port) {
			n++
		}
	}
	return n
}

// unsupported returns the option tags of header name we do not support.
func unsupported(req *sip.Request, name string) []string {
	var out []string
	for _, h := range siputil.Headers(req, name) {
		for _, tag := range strings.Split(h.Value(), ",") {
			tag = strings.ToLower(strings.TrimSpace(tag))
			if tag != "" && !supported[tag] {
				out = append(out, tag)
			}
		}
	}
	return out
}

// valueLen is the length of a header's value as it would be written,
// without building it (Value() formats typed headers into a new string;
// measured at 5% of the CPU of a REGISTER). Numeric headers are short by
// construction.
func valueLen(h sip.Header, n *lenCounter) int {
	switch h := h.(type) {
	case *sip.CSeqHeader, *sip.MaxForwardsHeader, *sip.ContentLengthHeader, *sip.ExpiresHeader:
		return 0
	case *sip.CallIDHeader:
		return len(*h)
	case *sip.ContentTypeHeader:
		return len(*h)
	case *sip.ViaHeader:
		// Counted from its fields: sipgo formats a Via's host and port
		// into new strings even when streaming it.
		l := len(h.ProtocolName) + len(h.ProtocolVersion) + len(h.Transport) + len(h.Host) + 3
		if strings.Contains(h.Host, ":") && !strings.HasPrefix(h.Host, "[") {
			l += 2 // an IPv6 address is written in brackets
		}
		if h.Port > 0 {
			l += 1 + len(strconv.Itoa(h.Port))
		}
		for _, kv := range h.Params {
			l += 1 + len(kv.K)
			if kv.V != "" {
				l += 1 + len(kv.V)
			}
		}
		return l
	case *sip.FromHeader:
		if b := addressBound(h.DisplayName, &h.Address, h.Params); b <= maxHeader/3 {
			return b
		}
	case *sip.ToHeader:
		if b := addressBound(h.DisplayName, &h.Address, h.Params); b <= maxHeader/3 {
			return b
		}
	case *sip.ContactHeader:
		if b := addressBound(h.DisplayName, &h.Address, h.Params); b <= maxHeader/3 {
			return b
		}
	}
	*n = 0
	h.StringWrite(n)
	return int(*n) - len(h.Name()) - len(": ")
}

// addressBound is at least the length of an address header's value, from
// its fields: sipgo formats a URI's host into a new string even when
// streaming it. Escaping may write a character as three, so valueLen
// trusts the bound only while three times it fits the limit, and
// measures the header as written otherwise.
func addressBound(display string, u *sip.Uri, params sip.HeaderParams) int {
	l := len(display) + 3 + // quotes and the space before the URI
		2 + len(u.Scheme) + len(u.Raw()) + len(u.User) + len(u.Password) + len(u.Host) +
		12 // <>, :, //, :, @, [], a port of up to 5 digits
	return l + paramsBound(u.UriParams) + paramsBound(u.Headers) + paramsBound(params)
}

// paramsBound is at least the length of params as written: a separator,
// the name, "=" and the value of each.
func paramsBound(params sip.HeaderParams) int {
	n := 0
	for _, kv := range params {
		n += 2 + len(kv.K) + len(kv.V)
	}
	return n
}

// lenCounter is an io.StringWriter that only counts.
type lenCounter int

func (c *lenCounter) WriteString(s string) (int, error) {
	*c += lenCounter(len(s))
	return len(s), nil
}
