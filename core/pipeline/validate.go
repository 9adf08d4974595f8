package pipeline

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/presence"
	"github.com/parley-rtc/parley/core/siputil"
)

// maxBody bounds request bodies we accept (pages of IM, SDP, PIDF).
const maxBody = 64 << 10

// maxHeader bounds one header field value.
const maxHeader = 4 << 10

// supported lists the option tags we understand in Require.
var supported = map[string]bool{"path": true, "outbound": true, "gruu": false}

// rejection is the response a request that fails validation gets.
type rejection struct {
	code    int
	reason  string
	headers []sip.Header
}

// sipVersion is the only protocol version we speak (RFC 3261 7.1: the
// string is case-insensitive).
const sipVersion = "SIP/2.0"

// validate applies the checks of RFC 3261 8.2 and 16.3. It runs before
// any challenge, on every path: Handle and the direct path through serve,
// the stateless challenge through invalid.
func (p *Pipeline) validate(c *call) step {
	if r := p.invalid(c.req); r != nil {
		p.respond(c, r.code, r.reason, r.headers...)
		return answered
	}
	return proceed
}

// invalid returns the rejection of a request that fails validation, nil
// for a valid one. It has no side effects, so the stateless challenge
// (core/pipeline/udpfast, through udp.go) can ask it first. The order is
// RFC 3261's: the start line and the headers every request needs (8.1.1, 8.2: 505, 400), the
// Request-URI's scheme (16.3 step 2: 416), sizes, Max-Forwards (step 3:
// 483), loops (step 4: 482), Proxy-Require (step 5: 420), and Require
// where this node is the UAS (8.2.2.3: 420).
func (p *Pipeline) invalid(req *sip.Request) *rejection {
	if !strings.EqualFold(req.SipVersion, sipVersion) {
		return &rejection{code: 505, reason: "Version Not Supported"}
	}
	if req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil || req.Via() == nil {
		return &rejection{code: 400, reason: "Bad Request (missing From, To, Call-ID, CSeq or Via)"}
	}
	if req.CSeq().MethodName != req.Method {
		return &rejection{code: 400, reason: "Bad Request (CSeq method does not match)"}
	}
	switch req.Recipient.Scheme {
	case "sip", "sips", "tel":
	default:
		return &rejection{code: 416, reason: "Unsupported URI Scheme"}
	}
	if len(req.Body()) > maxBody {
		return &rejection{code: 413, reason: "Request Entity Too Large"}
	}
	var n lenCounter
	for _, h := range req.Headers() {
		if valueLen(h, &n) > maxHeader {
			return &rejection{code: 400, reason: "Bad Request (header " + h.Name() + " too long)"}
		}
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		return &rejection{code: 483, reason: "Too Many Hops"}
	}
	if p.ownVias(req) >= maxSpirals {
		return &rejection{code: 482, reason: "Loop Detected"}
	}
	if unsup := unsupported(req, "Proxy-Require"); len(unsup) > 0 {
		return badExtension(unsup)
	}
	if p.endsHere(req) {
		if unsup := unsupported(req, "Require"); len(unsup) > 0 {
			return badExtension(unsup)
		}
	}
	return nil
}

// badExtension is the 420 listing the option tags we do not support.
func badExtension(unsup []string) *rejection {
	return &rejection{code: 420, reason: "Bad Extension",
		headers: []sip.Header{sip.NewHeader("Unsupported", strings.Join(unsup, ", "))}}
}

// endsHere reports whether this node is the UAS of req, as userServices
// decides it (REGISTER, OPTIONS to the server, PUBLISH and presence
// SUBSCRIBE), so its Require applies to us; a request we proxy leaves
// Require to the next hop (RFC 3261 16.3). An edge serves none of them.
func (p *Pipeline) endsHere(req *sip.Request) bool {
	switch {
	case p.cfg.Role == state.RoleEdge:
		return false
	case req.Method == sip.REGISTER, req.Method == sip.PUBLISH:
		return true
	case req.Method == sip.OPTIONS:
		return req.Recipient.User == ""
	default:
		return presence.Handles(req)
	}
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
