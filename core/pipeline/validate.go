package pipeline

import (
	"strings"

	"github.com/emiago/sipgo/sip"
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
	req := c.req
	if req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil || req.Via() == nil {
		p.respond(c, 400, "Bad Request (missing From, To, Call-ID, CSeq or Via)")
		return false
	}
	if req.CSeq().MethodName != req.Method {
		p.respond(c, 400, "Bad Request (CSeq method does not match)")
		return false
	}
	switch req.Recipient.Scheme {
	case "sip", "sips", "tel":
	default:
		p.respond(c, 416, "Unsupported URI Scheme")
		return false
	}
	if len(req.Body()) > maxBody {
		p.respond(c, 413, "Request Entity Too Large")
		return false
	}
	for _, h := range req.Headers() {
		if len(h.Value()) > maxHeader {
			p.respond(c, 400, "Bad Request (header "+h.Name()+" too long)")
			return false
		}
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		p.respond(c, 483, "Too Many Hops")
		return false
	}
	if p.ownVias(req) >= maxSpirals {
		p.respond(c, 482, "Loop Detected")
		return false
	}
	if unsup := unsupported(req, "Proxy-Require"); len(unsup) > 0 {
		p.respond(c, 420, "Bad Extension", sip.NewHeader("Unsupported", strings.Join(unsup, ", ")))
		return false
	}
	if req.Method == sip.REGISTER || req.Method == sip.OPTIONS && req.Recipient.User == "" {
		if unsup := unsupported(req, "Require"); len(unsup) > 0 {
			p.respond(c, 420, "Bad Extension", sip.NewHeader("Unsupported", strings.Join(unsup, ", ")))
			return false
		}
	}
	return true
}

// maxSpirals is how many of our own Vias a request may carry: a request
// may legitimately come back through us (a spiral, e.g. through a
// gateway), but not again and again. Max-Forwards bounds the rest.
const maxSpirals = 3

// ownVias counts the Via entries naming one of our listeners.
func (p *Pipeline) ownVias(req *sip.Request) int {
	n := 0
	for _, h := range req.GetHeaders("Via") {
		if v, ok := h.(*sip.ViaHeader); ok && p.cfg.Listeners.IsOwn(v.Host, v.Port) {
			n++
		}
	}
	return n
}

// unsupported returns the option tags of header name we do not support.
func unsupported(req *sip.Request, name string) []string {
	var out []string
	for _, h := range req.GetHeaders(name) {
		for _, tag := range strings.Split(h.Value(), ",") {
			tag = strings.ToLower(strings.TrimSpace(tag))
			if tag != "" && !supported[tag] {
				out = append(out, tag)
			}
		}
	}
	return out
}
