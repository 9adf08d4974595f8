package xmpp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"mime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"mellium.im/xmpp/stanza"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// sendTimeout bounds writing one stanza to the component stream.
const sendTimeout = 5 * time.Second

// sipToXMPP carries our user's MESSAGE to an XMPP address (RFC 7572
// section 5): the Request-URI maps to the recipient JID (address.go), the
// sender's address of record to a JID in the component's domain; body,
// Subject, Call-ID (as <thread/>) and Content-Language (as xml:lang)
// travel. XMPP has no delivery acknowledgement by default, so the answer
// is 200 once the stanza is written to the component stream; an error
// stanza arriving later for it is logged and reported to the sender as an
// IMDN failure (imdn.go).
func (g *Gateway) sipToXMPP(ctx context.Context, st state, req *sdk.Request) sdk.Verdict {
	to, err := ParseSIPAddress(req.Recipient.String())
	if err != nil {
		return respondErr(err)
	}
	toJID, err := to.JID()
	if err != nil {
		return respondErr(err)
	}
	sender, err := g.senderAddress(st.cfg, req)
	if err != nil {
		return sdk.Respond(403, "Forbidden (the sender has no address in the gateway's domain)")
	}
	fromJID, err := SIPAddress{User: sender.User, Host: st.cfg.Component}.JID()
	if err != nil {
		return sdk.Respond(403, "Forbidden (the sender has no XMPP form)")
	}
	body := req.Body()
	chatState := ""
	if ct := req.GetHeader("Content-Type"); ct != nil && isComposing(ct.Value()) {
		cs, err := chatStateFor(body) // bounded by composingBytes
		if err != nil {
			return sdk.Respond(400, "Bad Request (not an RFC 3994 isComposing document)")
		}
		chatState, body = cs, nil
	} else if len(body) > st.cfg.MaxMessageBytes {
		return sdk.Respond(413, "")
	} else if v := textPlain(ct); v != nil {
		return *v
	}
	if !utf8.Valid(body) {
		return sdk.Respond(400, "Bad Request (body is not UTF-8)")
	}
	if !st.out.State().Connected {
		return linkDown(st.cfg)
	}
	m := outMessage{
		ID:     newID(),
		From:   fromJID,
		To:     toJID,
		Type:   stanza.ChatMessage,
		Body:   string(body),
		Thread: headerValue(req, "Call-ID"),
		Lang:   firstLang(headerValue(req, "Content-Language")),
	}
	if chatState != "" {
		// A typing notification: no body, no IMDN, nothing pending.
		m.ChatState = chatState
		sctx, cancel := context.WithTimeout(ctx, sendTimeout)
		defer cancel()
		if err := st.out.Send(sctx, m.TokenReader()); err != nil {
			return linkDown(st.cfg)
		}
		return sdk.Respond(200, "")
	}
	if subj := headerValue(req, "Subject"); subj != "" {
		m.Subject = subj
		m.Type = stanza.NormalMessage // a message with a subject stands alone (RFC 6121 5.2.2)
	}
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if err := st.out.Send(sctx, m.TokenReader()); err != nil {
		g.log.Warn("message to xmpp not sent", "to", toJID.String(), "err", err)
		return linkDown(st.cfg)
	}
	st.pending.add(m.ID, pendingMessage{sender: sender, recipient: to, callID: m.Thread})
	g.log.Debug("message to xmpp", "from", fromJID.String(), "to", toJID.String(), "id", m.ID)
	return sdk.Respond(200, "")
}

// senderAddress is the authenticated identity, else the From URI.
func (g *Gateway) senderAddress(cfg Config, req *sdk.Request) (SIPAddress, error) {
	id := req.Identity
	if id == "" && req.From() != nil {
		id = req.From().Address.String()
	}
	if !strings.HasPrefix(strings.ToLower(id), "sip") {
		id = "sip:" + id
	}
	a, err := ParseSIPAddress(id)
	if err != nil {
		return SIPAddress{}, err
	}
	if a.Host != cfg.Component {
		return SIPAddress{}, ErrUnmappable
	}
	a.GRUU = ""
	return a, nil
}

// textPlain refuses bodies other than text/plain (415, with Accept).
func textPlain(h interface{ Value() string }) *sdk.Verdict {
	if h == nil {
		return nil
	}
	mt, params, err := mime.ParseMediaType(h.Value())
	if err == nil && mt == "text/plain" {
		if cs := params["charset"]; cs == "" || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "us-ascii") {
			return nil
		}
	}
	v := sdk.Respond(415, "", "Accept", "text/plain")
	return &v
}

func headerValue(req *sdk.Request, name string) string {
	if h := req.GetHeader(name); h != nil {
		return strings.TrimSpace(h.Value())
	}
	return ""
}

// firstLang is the first language tag of a Content-Language value.
func firstLang(v string) string {
	tag, _, _ := strings.Cut(v, ",")
	tag = strings.TrimSpace(tag)
	for _, r := range tag {
		if !(r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return ""
		}
	}
	return tag
}

// respondErr answers an address error with its SIP code (errors.go).
func respondErr(err error) sdk.Verdict {
	return sdk.Respond(SIPCode(err), "")
}

// linkDown is 503 with Retry-After: the component link is not up.
func linkDown(cfg Config) sdk.Verdict {
	secs := max(1, int(cfg.ReconnectMin.Round(time.Second)/time.Second))
	return sdk.Respond(503, "Service Unavailable (XMPP link down)", "Retry-After", strconv.Itoa(secs))
}

// newID is a random stanza id.
func newID() string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return "parley-" + hex.EncodeToString(b[:])
}
