package xmpp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// Subscriptions XMPP -> SIP, with consent (RFC 8048 section 5, RFC 6121
// section 3): a contact's <presence type='subscribe'/> to one of our
// users becomes a SIP SUBSCRIBE (event presence) from the contact's SIP
// address to our user, sent on the node's SIP link, so the node's
// presence agent applies our user's rules (an outside watcher is pending
// until our user allows or blocks it). Its NOTIFYs decide what the
// contact hears:
//
//   - Subscription-State pending: nothing yet;
//   - active: 'subscribed' (once), then the PIDF body as <presence/>
//     (presence.go's table), again on every NOTIFY;
//   - terminated;reason=rejected (our user refused, core/presence) or
//     noresource: 'unsubscribed' and 'unavailable';
//   - terminated for another reason (timeout, deactivated, probation,
//     giveup): the subscription lapsed, not refused: SUBSCRIBE again.
//
// The dialog (Call-ID, tags, CSeq, expiry) is kept in the pair's state
// in the key/value store, refreshed before it expires, and refreshed at
// start-up so a new instance (a lease move) becomes the NOTIFY target.
// 'unsubscribe' from the contact ends it (SUBSCRIBE Expires: 0); a probe
// is answered with the last presence the agent sent.

const (
	// subscribeExpiry is what the gateway asks for; it refreshes a
	// dialog when less than subRefreshBefore is left.
	subscribeExpiry  = time.Hour
	subRefreshBefore = 5 * time.Minute
	// sipSubTimeout bounds one SUBSCRIBE transaction on the link.
	sipSubTimeout = 10 * time.Second
	// maxDialogs bounds the subscriptions the gateway holds.
	maxDialogs = 4096
)

// sipDialog is the gateway's SUBSCRIBE dialog of one pair.
type sipDialog struct {
	CallID  string `json:"cid"`
	FromTag string `json:"ft"`
	ToTag   string `json:"tt,omitempty"`
	CSeq    uint32 `json:"cseq"`
	Expires int64  `json:"exp"` // unix seconds
}

// pairRef names the pair a dialog belongs to.
type pairRef struct {
	key           string
	contact, ours jid.JID
}

func newPairRef(contact, ours jid.JID) (pairRef, bool) {
	key, ok := pairKey(contact, ours)
	return pairRef{key, contact, ours}, ok
}

// onNotify is the user agent's NOTIFY hook: known dialogs are queued
// for the worker (in order); false for a Call-ID the gateway never sent.
func (p *presenceGW) onNotify(n notifyIn) bool {
	if _, ok := p.calls.Load(n.CallID); !ok {
		return false
	}
	p.enqueue(func(ctx context.Context) { p.notified(ctx, n) })
	return true
}

func newTag() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// subscribeRequest builds the SUBSCRIBE of a pair's dialog: from the
// contact's SIP address to our user's.
func (p *presenceGW) subscribeRequest(ref pairRef, d *sipDialog, expires time.Duration) (*sip.Request, error) {
	from, err := SIPFromJID(ref.contact)
	if err != nil {
		return nil, err
	}
	to, err := SIPFromJID(ref.ours)
	if err != nil {
		return nil, err
	}
	var ruri, furi sip.Uri
	if err := sip.ParseUri(to.String(), &ruri); err != nil {
		return nil, err
	}
	if err := sip.ParseUri(from.String(), &furi); err != nil {
		return nil, err
	}
	req := sip.NewRequest(sip.SUBSCRIBE, ruri)
	fp, tp := sip.NewParams(), sip.NewParams()
	fp.Add("tag", d.FromTag)
	if d.ToTag != "" {
		tp.Add("tag", d.ToTag)
	}
	req.AppendHeader(&sip.FromHeader{Address: furi, Params: fp})
	req.AppendHeader(&sip.ToHeader{Address: *ruri.Clone(), Params: tp})
	cid := sip.CallIDHeader(d.CallID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: d.CSeq, MethodName: sip.SUBSCRIBE})
	req.AppendHeader(sip.NewHeader("Event", "presence"))
	req.AppendHeader(sip.NewHeader("Accept", "application/pidf+xml"))
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	return req, nil
}

// doSubscribe sends one SUBSCRIBE of d (CSeq already set).
func (p *presenceGW) doSubscribe(ctx context.Context, ref pairRef, d *sipDialog, expires time.Duration) (*sip.Response, error) {
	req, err := p.subscribeRequest(ref, d, expires)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, sipSubTimeout)
	defer cancel()
	return p.sip.Do(ctx, req)
}

// grantedExpiry is the 2xx's Expires (RFC 6665 4.1.2.1), or what was asked.
func grantedExpiry(res *sip.Response, asked time.Duration) time.Duration {
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}

// startDialog sends a new SUBSCRIBE for the pair and returns the state to
// store: with the dialog on 2xx; In none (and 'unsubscribed' sent) when
// the node refuses; unchanged, with ok false, when nothing answered.
func (p *presenceGW) startDialog(ctx context.Context, ref pairRef, st pairState) (pairState, bool) {
	if p.countDialogs() >= maxDialogs {
		p.g.log.Warn("too many subscriptions to our users: not subscribed", "contact", ref.contact.String(), "user", ref.ours.String())
		return st, false
	}
	d := &sipDialog{CallID: newID() + "@" + p.g.state().cfg.Component, FromTag: newTag(), CSeq: 1}
	p.calls.Store(d.CallID, ref)
	res, err := p.doSubscribe(ctx, ref, d, subscribeExpiry)
	switch {
	case err != nil:
		p.calls.Delete(d.CallID)
		p.g.log.Warn("subscribe to sip not answered", "contact", ref.contact.String(), "user", ref.ours.String(), "err", err)
		return st, false
	case res.StatusCode >= 300:
		p.calls.Delete(d.CallID)
		p.g.log.Info("subscribe to sip refused", "contact", ref.contact.String(), "user", ref.ours.String(), "code", res.StatusCode)
		p.sendUnsubscribed(ctx, ref)
		st.In, st.Dlg = subNone, nil
		return st, true
	}
	if to := res.To(); to != nil {
		d.ToTag, _ = to.Params.Get("tag")
	}
	d.Expires = p.g.now().Add(grantedExpiry(res, subscribeExpiry)).Unix()
	p.expiry[d.CallID] = d.Expires
	st.Dlg = d
	if st.In == subNone {
		st.In = subPending
	}
	p.g.log.Info("subscribed to sip", "contact", ref.contact.String(), "user", ref.ours.String(), "code", res.StatusCode)
	return st, true
}

func (p *presenceGW) countDialogs() int { return len(p.expiry) }

// dropDialog forgets a dialog in memory.
func (p *presenceGW) dropDialog(cid string) {
	p.calls.Delete(cid)
	delete(p.expiry, cid)
	delete(p.lastCSeq, cid)
}

// subscribeIn handles a contact's 'subscribe' to one of our users.
func (p *presenceGW) subscribeIn(ctx context.Context, contact, ours jid.JID) {
	ref, ok := newPairRef(contact, ours)
	if !ok {
		return
	}
	key := ref.key
	st := p.getPair(ctx, key)
	switch {
	case p.sip == nil:
		if st.In == subNone { // no SIP link: recorded only
			st.In = subPending
			p.putPair(ctx, key, st)
		}
		return
	case st.In == subYes && st.Dlg != nil:
		// Already approved (RFC 6121 3.1.3): say so again, with presence.
		_ = p.send(ctx, stanza.SubscribedPresence, ours, contact)
		p.sendShown(ctx, ref)
		return
	case st.In == subPending && st.Dlg != nil:
		return // our user has not decided: nothing, however often asked
	}
	if st2, ok := p.startDialog(ctx, ref, st); ok {
		p.putPair(ctx, key, st2)
	}
}

// unsubscribeIn handles a contact's 'unsubscribe': the SIP subscription
// ends (Expires: 0) and the contact gets our user's unavailable
// (RFC 6121 3.3.3).
func (p *presenceGW) unsubscribeIn(ctx context.Context, contact, ours jid.JID) {
	ref, ok := newPairRef(contact, ours)
	if !ok {
		return
	}
	key := ref.key
	st := p.getPair(ctx, key)
	if st.Dlg != nil && p.sip != nil {
		d := *st.Dlg
		p.dropDialog(d.CallID) // its final NOTIFY is not ours to act on
		d.CSeq++
		if res, err := p.doSubscribe(ctx, ref, &d, 0); err != nil || res.StatusCode >= 300 {
			p.g.log.Info("unsubscribe to sip not accepted (it lapses)", "contact", contact.String(), "user", ours.String(), "err", err)
		}
	}
	if st.In == subYes {
		_ = p.send(ctx, stanza.UnavailablePresence, ours, contact)
	}
	delete(p.shown, key)
	if st.In == subNone && st.Dlg == nil {
		return
	}
	st.In, st.Dlg = subNone, nil
	p.putPair(ctx, key, st)
	p.g.log.Info("subscription to our user cancelled", "contact", contact.String(), "user", ours.String())
}

// probe answers a contact's probe of one of our users (RFC 6121 4.3.2):
// with the last presence the agent sent when the contact is subscribed
// (none yet: a refresh makes the agent send it), 'unsubscribed' when it
// is not, nothing while our user decides.
func (p *presenceGW) probe(ctx context.Context, contact, ours jid.JID) {
	ref, ok := newPairRef(contact, ours)
	if !ok {
		return
	}
	key := ref.key
	st := p.getPair(ctx, key)
	switch st.In {
	case subYes:
		if _, ok := p.shown[key]; ok {
			p.sendShown(ctx, ref)
		} else if st.Dlg != nil && p.sip != nil {
			p.putPair(ctx, key, p.refreshDialog(ctx, ref, st))
		}
	case subNone:
		if p.sip != nil {
			p.sendUnsubscribed(ctx, ref)
		}
	}
}

// sendUnsubscribed tells the contact its subscription is refused or
// over, and that our user is unavailable to it (RFC 6121 3.2).
func (p *presenceGW) sendUnsubscribed(ctx context.Context, ref pairRef) {
	if err := p.send(ctx, stanza.UnsubscribedPresence, ref.ours, ref.contact); err != nil {
		p.g.log.Warn("unsubscribed not sent", "to", ref.contact.String(), "err", err)
	}
	_ = p.send(ctx, stanza.UnavailablePresence, ref.ours, ref.contact)
}

// sendShown sends the pair's last presence from the agent (unavailable
// when none).
func (p *presenceGW) sendShown(ctx context.Context, ref pairRef) {
	pr, ok := p.shown[ref.key]
	if !ok {
		pr = Presence{Unavailable: true}
	}
	if err := p.sendPresence(ctx, ref.ours, ref.contact, pr); err != nil {
		p.g.log.Warn("presence not sent", "to", ref.contact.String(), "err", err)
	}
}

// sendPresence writes one of our users' presence to a contact.
func (p *presenceGW) sendPresence(ctx context.Context, from, to jid.JID, pr Presence) error {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	out := p.g.state().out
	if out == nil {
		return ErrNotConnected
	}
	st := stanza.Presence{ID: newID(), From: from, To: to}
	if pr.Unavailable {
		st.Type = stanza.UnavailablePresence
	}
	var inner []xml.TokenReader
	if pr.Show != ShowNone && !pr.Unavailable {
		inner = append(inner, textElement("show", pr.Show))
	}
	if pr.Status != "" {
		inner = append(inner, textElement("status", pr.Status))
	}
	return out.Send(ctx, st.Wrap(xmlstream.MultiReader(inner...)))
}

// notified applies one NOTIFY of a pair's dialog (in order, on the worker).
func (p *presenceGW) notified(ctx context.Context, n notifyIn) {
	v, ok := p.calls.Load(n.CallID)
	if !ok {
		return // ended meanwhile
	}
	ref := v.(pairRef)
	if last := p.lastCSeq[n.CallID]; last != 0 && n.CSeq <= last {
		return // an older NOTIFY overtaken by a newer one (UDP)
	}
	p.lastCSeq[n.CallID] = n.CSeq
	st := p.getPair(ctx, ref.key)
	if st.Dlg == nil || st.Dlg.CallID != n.CallID {
		return
	}
	before := st
	switch n.State {
	case "pending":
		if st.In == subNone {
			st.In = subPending
		}
	case "active":
		if st.In != subYes {
			if err := p.send(ctx, stanza.SubscribedPresence, ref.ours, ref.contact); err != nil {
				p.g.log.Warn("subscribed not sent", "to", ref.contact.String(), "err", err)
				return // the next NOTIFY (or the probe) tries again
			}
			st.In = subYes
			p.g.log.Info("subscription approved by our user", "contact", ref.contact.String(), "user", ref.ours.String())
		}
		if len(n.Body) > 0 {
			pr, err := PresenceFromPIDF(n.Body)
			if err != nil {
				p.g.log.Info("notify body not read", "user", ref.ours.String(), "err", err)
				break
			}
			p.shown[ref.key] = pr
			if err := p.sendPresence(ctx, ref.ours, ref.contact, pr); err != nil {
				p.g.log.Warn("presence not sent", "to", ref.contact.String(), "err", err)
			}
		}
	case "terminated":
		p.dropDialog(n.CallID)
		st.Dlg = nil
		delete(p.shown, ref.key)
		switch n.Reason {
		case "rejected", "noresource", "":
			p.g.log.Info("subscription refused by our user", "contact", ref.contact.String(), "user", ref.ours.String(), "reason", n.Reason)
			p.sendUnsubscribed(ctx, ref)
			st.In = subNone
		default: // lapsed, not refused (RFC 6665 4.1.3): subscribe again
			if st.In != subNone {
				st, _ = p.startDialog(ctx, ref, st)
			}
		}
	}
	if st.In != before.In || st.Dlg != before.Dlg {
		p.putPair(ctx, ref.key, st)
	}
}

// refreshDialog sends the in-dialog SUBSCRIBE that keeps a pair's
// subscription (and makes the agent NOTIFY its current state); a dialog
// the node no longer has is started again.
func (p *presenceGW) refreshDialog(ctx context.Context, ref pairRef, st pairState) pairState {
	d := *st.Dlg
	d.CSeq++
	p.calls.Store(d.CallID, ref)
	res, err := p.doSubscribe(ctx, ref, &d, subscribeExpiry)
	switch {
	case err != nil:
		p.g.log.Info("subscription refresh not answered", "contact", ref.contact.String(), "user", ref.ours.String(), "err", err)
		st.Dlg = &d // the CSeq was used
		return st
	case res.StatusCode >= 300:
		p.dropDialog(d.CallID)
		st.Dlg = nil
		if res.StatusCode == 481 || res.StatusCode == 408 {
			st, _ = p.startDialog(ctx, ref, st)
			return st
		}
		p.sendUnsubscribed(ctx, ref)
		st.In = subNone
		return st
	}
	d.Expires = p.g.now().Add(grantedExpiry(res, subscribeExpiry)).Unix()
	p.expiry[d.CallID] = d.Expires
	st.Dlg = &d
	return st
}

// refreshDialogs refreshes the dialogs that expire within
// subRefreshBefore (all of them when all is set: at start-up, so that
// this instance becomes their NOTIFY target).
func (p *presenceGW) refreshDialogs(ctx context.Context, all bool) {
	if p.sip == nil {
		return
	}
	soon := p.g.now().Add(subRefreshBefore).Unix()
	var due []string
	for cid, exp := range p.expiry {
		if all || exp <= soon {
			due = append(due, cid)
		}
	}
	for _, cid := range due {
		v, ok := p.calls.Load(cid)
		if !ok || ctx.Err() != nil {
			continue
		}
		ref := v.(pairRef)
		st := p.getPair(ctx, ref.key)
		if st.Dlg == nil || st.Dlg.CallID != cid {
			p.dropDialog(cid)
			continue
		}
		p.putPair(ctx, ref.key, p.refreshDialog(ctx, ref, st))
	}
}

// resumeDialogs loads the dialogs kept in the key/value store (a new
// instance, after a restart or a lease move) and refreshes them.
func (p *presenceGW) resumeDialogs(ctx context.Context) {
	if p.sip == nil {
		return
	}
	for _, ref := range p.storedPairs(ctx) {
		if st := p.getPair(ctx, ref.key); st.Dlg != nil && len(p.expiry) < maxDialogs {
			p.calls.Store(st.Dlg.CallID, ref)
			p.expiry[st.Dlg.CallID] = st.Dlg.Expires
		}
	}
	if len(p.expiry) > 0 {
		p.g.log.Info("resuming subscriptions to our users", "count", len(p.expiry))
	}
	p.refreshDialogs(ctx, true)
}
