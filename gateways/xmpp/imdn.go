package xmpp

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"mellium.im/xmpp/stanza"
)

// Late errors. A SIP MESSAGE is answered 200 once its stanza is written;
// when the XMPP side refuses it afterwards (a <message type='error'/>
// with the same id), the gateway logs it and tells the SIP sender with an
// RFC 5438 delivery notification, status <failed/>, sent through the
// node's SIP link from the recipient's SIP address. Simplifications
// (README.md): the notification is a bare message/imdn+xml body (not
// wrapped in CPIM), its <message-id/> is the original MESSAGE's Call-ID
// (our senders send no IMDN Message-ID), it goes whether or not the
// sender asked for notifications, and it carries the RFC 7247 mapping of
// the stanza error in a Reason header: SIP;cause=<code>;text="<condition>".

// pendingTTL is how long a sent message waits for a late error.
const pendingTTL = 2 * time.Minute

// maxPending bounds the messages remembered for late errors.
const maxPending = 10_000

type pendingMessage struct {
	sender    SIPAddress // our user
	recipient SIPAddress // the XMPP address, in SIP form
	callID    string
	at        time.Time
}

// pendingSet remembers recently sent stanza ids.
type pendingSet struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]pendingMessage
}

func newPendingSet(now func() time.Time) *pendingSet {
	return &pendingSet{now: now, m: map[string]pendingMessage{}}
}

func (p *pendingSet) add(id string, pm pendingMessage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	pm.at = now
	if len(p.m) >= maxPending {
		for k, v := range p.m {
			if now.Sub(v.at) > pendingTTL || len(p.m) >= maxPending {
				delete(p.m, k)
			}
		}
	}
	p.m[id] = pm
}

// take removes and returns the message sent with id, if still known.
func (p *pendingSet) take(id string) (pendingMessage, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pm, ok := p.m[id]
	delete(p.m, id)
	if ok && p.now().Sub(pm.at) > pendingTTL {
		return pendingMessage{}, false
	}
	return pm, ok
}

// lateError handles an error stanza answering one of our messages.
func (g *Gateway) lateError(st state, m inMessage) {
	cond := stanza.UndefinedCondition
	if m.Err != nil {
		cond = m.Err.Condition
	}
	pm, ok := st.pending.take(m.ID)
	if !ok {
		g.log.Info("xmpp error for an unknown message", "from", m.From.String(), "id", m.ID, "condition", string(cond))
		return
	}
	code := SIPCodeFor(cond)
	g.log.Info("message to xmpp refused", "from", pm.sender.AOR(), "to", m.From.String(), "condition", string(cond), "sip_code", code)
	if st.host == nil {
		return
	}
	req := imdnRequest(pm, code, string(cond), g.now(), g.cseq.Add(1))
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
		defer cancel()
		res, err := st.host.SendRequest(ctx, req, "")
		switch {
		case err != nil:
			g.log.Warn("imdn failure notification not sent", "to", pm.sender.AOR(), "err", err)
		case res.StatusCode >= 300:
			g.log.Info("imdn failure notification refused", "to", pm.sender.AOR(), "code", res.StatusCode)
		}
	}()
}

// imdnRequest is the failure notification for pm.
func imdnRequest(pm pendingMessage, code int, cond string, now time.Time, cseq uint32) *sip.Request {
	from := pm.recipient
	from.GRUU = ""
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<imdn xmlns="urn:ietf:params:xml:ns:imdn">
<message-id>%s</message-id>
<datetime>%s</datetime>
<recipient-uri>%s</recipient-uri>
<original-recipient-uri>%s</original-recipient-uri>
<delivery-notification><status><failed/></status></delivery-notification>
</imdn>
`, xmlEscape(pm.callID), now.UTC().Format(time.RFC3339), xmlEscape(from.String()), xmlEscape(pm.recipient.String()))
	req := newSIPMessage(from, pm.sender, newID()+"@"+from.Host, cseq)
	req.AppendHeader(sip.NewHeader("Content-Type", "message/imdn+xml"))
	req.AppendHeader(sip.NewHeader("Content-Disposition", "notification"))
	req.AppendHeader(sip.NewHeader("Reason", "SIP;cause="+strconv.Itoa(code)+`;text="`+cond+`"`))
	req.SetBody([]byte(body))
	return req
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xmlEscapeTo(&b, s)
	return b.String()
}
