package xmpp

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// sipTimeout bounds the SIP transaction of one XMPP -> SIP message (a
// little over RFC 3261's 32 s for non-INVITE).
const sipTimeout = 34 * time.Second

// message handles one <message/> from the server and returns the
// immediate answer, if any. XMPP -> SIP (RFC 7572 section 4): a message
// from an XMPP user to user@<component> becomes a SIP MESSAGE from the
// JID's SIP form (a domain the gateway claims) to sip:user@<component>,
// sent through the node's SIP link; the SIP final response maps back
// (errors.go) as a stanza error to the sender.
func (g *Gateway) message(st state, start xml.StartElement, r xml.TokenReader) xml.TokenReader {
	id, from, to, typ := stanzaHead(start)
	// Errors and groupchat are never answered with an error (RFC 6120
	// 8.3.1, RFC 6121 5.2.2); headlines neither.
	answer := typ != "error" && typ != "groupchat" && typ != "headline"
	fail := func(cond stanza.Condition) xml.TokenReader {
		if !answer || from.Equal(jid.JID{}) {
			return nil
		}
		if to.Equal(jid.JID{}) {
			to, _ = jid.New("", st.cfg.Component, "")
		}
		return errorReply("message", id, from, to, stanza.Error{Type: conditionTypes[cond], Condition: cond})
	}
	if st.cfg.MaxMessageBytes == 0 {
		return fail(stanza.ServiceUnavailable) // not configured
	}
	m, err := decodeMessage(start, r, 4*st.cfg.MaxMessageBytes+4096)
	switch {
	case errors.Is(err, ErrStanzaTooBig):
		return fail(stanza.PolicyViolation)
	case err != nil:
		g.log.Debug("malformed message stanza", "from", from.String(), "err", err)
		return fail(stanza.BadRequest)
	}
	if m.Type == stanza.ErrorMessage {
		g.lateError(st, m)
		return nil
	}
	if !answer {
		return nil
	}
	if !st.limits.allow(m.From.Bare().String()) {
		return fail(stanza.ResourceConstraint)
	}
	body := m.Body()
	if body == "" {
		if cs := m.ChatState(); cs != "" {
			g.typing(st, m, cs)
		}
		return nil // receipts and the like without a body: not yet
	}
	if len(body) > st.cfg.MaxMessageBytes || len(m.Subject()) > 1024 {
		return fail(stanza.PolicyViolation)
	}
	if m.To.Domainpart() != st.cfg.Component {
		return fail(stanza.ItemNotFound)
	}
	if !contains(st.cfg.Domains, m.From.Domainpart()) {
		return fail(stanza.NotAllowed) // the node takes only identities the gateway claims
	}
	rcpt, err := SIPFromJID(m.To.Bare())
	if err != nil {
		return fail(StanzaError(err).Condition)
	}
	sender, err := SIPFromJID(m.From.Bare())
	if err != nil {
		return fail(StanzaError(err).Condition)
	}
	if sender.String() == "" || rcpt.String() == "" {
		return fail(stanza.JIDMalformed)
	}
	if st.host == nil {
		return fail(stanza.ServiceUnavailable)
	}
	select {
	case st.inflight <- struct{}{}:
	default:
		return fail(stanza.ResourceConstraint)
	}
	req := newSIPMessage(sender, rcpt, callIDFor(m.Thread, sender.Host), g.cseq.Add(1))
	req.AppendHeader(sip.NewHeader("Content-Type", "text/plain;charset=UTF-8"))
	if s := m.Subject(); s != "" {
		req.AppendHeader(sip.NewHeader("Subject", oneLine(s)))
	}
	if lang := firstLang(m.Lang); lang != "" {
		req.AppendHeader(sip.NewHeader("Content-Language", lang))
	}
	req.SetBody([]byte(body))
	go func() {
		defer func() { <-st.inflight }()
		g.deliver(st, m, req)
	}()
	return nil
}

// deliver sends req and answers the XMPP sender when SIP refuses it.
func (g *Gateway) deliver(st state, m inMessage, req *sip.Request) {
	ctx, cancel := context.WithTimeout(context.Background(), sipTimeout)
	defer cancel()
	res, err := st.host.SendRequest(ctx, req, "")
	var se stanza.Error
	switch {
	case err != nil && ctx.Err() != nil:
		se = stanza.Error{Type: stanza.Wait, Condition: stanza.RemoteServerTimeout}
	case err != nil:
		g.log.Warn("message to sip not sent", "to", req.Recipient.String(), "err", err)
		se = stanza.Error{Type: stanza.Cancel, Condition: stanza.InternalServerError}
	case res.StatusCode < 300:
		g.log.Debug("message to sip delivered", "to", req.Recipient.String(), "code", res.StatusCode)
		return
	default:
		se = StanzaErrorFor(res.StatusCode)
		g.log.Info("message to sip refused", "from", m.From.String(), "to", req.Recipient.String(), "code", res.StatusCode, "reason", res.Reason, "condition", string(se.Condition))
	}
	sctx, scancel := context.WithTimeout(context.Background(), sendTimeout)
	defer scancel()
	if err := st.out.Send(sctx, errorReply("message", m.ID, m.From, m.To, se)); err != nil {
		g.log.Warn("stanza error not sent", "to", m.From.String(), "err", err)
	}
}

// newSIPMessage is a MESSAGE from one address to another, the fields
// the node's SIP link needs (tags, Call-ID, CSeq) set.
func newSIPMessage(from, to SIPAddress, callID string, cseq uint32) *sip.Request {
	var ruri, furi sip.Uri
	to.GRUU, from.GRUU = "", ""
	_ = sip.ParseUri(to.String(), &ruri)
	_ = sip.ParseUri(from.String(), &furi)
	req := sip.NewRequest(sip.MESSAGE, ruri)
	fp := sip.NewParams()
	fp.Add("tag", newID()[7:])
	req.AppendHeader(&sip.FromHeader{Address: furi, Params: fp})
	req.AppendHeader(&sip.ToHeader{Address: ruri, Params: sip.NewParams()})
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.MESSAGE})
	return req
}

// callIDFor is the thread when it is a valid Call-ID (RFC 3261 word
// characters, at most 200), else a fresh one.
func callIDFor(thread, host string) string {
	if t := strings.TrimSpace(thread); t != "" && len(t) <= 200 && isWord(t) {
		return t
	}
	return newID() + "@" + host
}

func isWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-.!%*_+`'~()<>:\\\"/[]?{}@", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// oneLine makes a header value of s: control characters become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func xmlEscapeTo(w io.Writer, s string) error { return xml.EscapeText(w, []byte(s)) }

// typing carries an XMPP user's bodiless chat state to our user as an
// isComposing MESSAGE (chatstates.go); nothing is answered either way.
func (g *Gateway) typing(st state, m inMessage, chatState string) {
	if m.To.Domainpart() != st.cfg.Component || !contains(st.cfg.Domains, m.From.Domainpart()) || st.host == nil {
		return
	}
	rcpt, err := SIPFromJID(m.To.Bare())
	if err != nil {
		return
	}
	sender, err := SIPFromJID(m.From.Bare())
	if err != nil || sender.String() == "" || rcpt.String() == "" {
		return
	}
	select {
	case st.inflight <- struct{}{}:
	default:
		return // busy: a typing notification is the first thing to give up
	}
	req := isComposingRequest(sender, rcpt, callIDFor(m.Thread, sender.Host), g.cseq.Add(1), chatState)
	go func() {
		defer func() { <-st.inflight }()
		ctx, cancel := context.WithTimeout(context.Background(), sipTimeout)
		defer cancel()
		if res, err := st.host.SendRequest(ctx, req, ""); err != nil {
			g.log.Debug("typing notification to sip not sent", "to", req.Recipient.String(), "err", err)
		} else if res.StatusCode >= 300 {
			g.log.Debug("typing notification to sip refused", "to", req.Recipient.String(), "code", res.StatusCode)
		}
	}()
}
