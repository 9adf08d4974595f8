package xmpp

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// Presence between the two worlds (README.md, "Presence"):
//
//   - XMPP -> SIP: a contact's <presence/> (per resource) is published
//     with Host.PublishPresence for the contact's SIP address (one PIDF
//     tuple per resource, presence.go), so the node's presence agent
//     serves our users' SUBSCRIBEs to it; the publication is refreshed
//     before it expires, and the last resource going unavailable
//     publishes offline once (not refreshed: it lapses to the agent's
//     "nothing published", offline too).
//   - Subscriptions SIP -> XMPP: the node tells the gateway who watches
//     each contact (OnWatchers); a new watcher becomes <presence
//     type='subscribe'/> from the watcher's JID, a watcher gone
//     'unsubscribe'. The contact's 'subscribed'/'unsubscribed' update the
//     pair's state; after the link comes up, a probe per approved pair
//     asks for current presence.
//
// The RFC 6121 state of each (our user, contact) pair lives in the
// plugin's replicated key/value store, so it survives a lease move. A
// 'subscribe' from a contact is recorded as pending-in and never answered
// with a 'subscribe' of ours (no storm with auto-subscribing clients).
//
// All of it runs on one worker goroutine, in order; the stream handler
// only decodes and queues.

// presenceHost is what the presence side uses of sdk.Host.
type presenceHost interface {
	PublishPresence(ctx context.Context, aor, pidf string, expires time.Duration, etag string) (string, error)
	KVGet(ctx context.Context, key string) ([]byte, bool, error)
	KVPut(ctx context.Context, key string, value []byte) error
	KVDelete(ctx context.Context, key string) error
	KVList(ctx context.Context, prefix string) ([]string, error)
}

const (
	// publishExpiry is the lifetime of a publication; it is refreshed
	// when less than refreshBefore is left (checked every refreshTick).
	publishExpiry = 10 * time.Minute
	refreshBefore = 3 * time.Minute
	refreshTick   = 30 * time.Second
	// maxContacts bounds the contacts whose presence is held in memory,
	// maxResources the resources of one contact.
	maxContacts  = 10000
	maxResources = 16
	// maxPresenceQueue bounds the work waiting for the worker; beyond,
	// presence is dropped (logged).
	maxPresenceQueue = 1024
	hostTimeout      = 5 * time.Second

	kvSubPrefix  = "sub/"  // sub/<contact bare JID>/<our bare JID> -> pairState
	kvETagPrefix = "etag/" // etag/<contact bare JID> -> the publication's ETag
	maxKeyBytes  = 256
)

// Subscription directions of a pair (RFC 6121 section 3 and appendix A):
// Out is our user's subscription to the contact's presence, In the
// contact's to our user's.
const (
	subNone    = ""
	subPending = "pending"
	subYes     = "yes"
)

// pairState is the stored state of one (our user, contact) pair.
type pairState struct {
	Out   string `json:"out,omitempty"`
	In    string `json:"in,omitempty"`
	Since int64  `json:"since,omitempty"` // unix seconds of the last change
	// Dlg is the SIP subscription carrying In (subsip.go).
	Dlg *sipDialog `json:"dlg,omitempty"`
}

func (p pairState) empty() bool { return p.Out == subNone && p.In == subNone && p.Dlg == nil }

// contactPresence is what the gateway knows of one contact.
type contactPresence struct {
	res     map[string]Presence // by resource
	body    string              // last published PIDF
	etag    string
	expires time.Time
	offline bool // the last publication is offline (not refreshed)
}

// presenceGW is the presence side of the gateway.
type presenceGW struct {
	g     *Gateway
	host  presenceHost
	queue chan func(ctx context.Context)

	mu       sync.Mutex // contacts is the worker's; mu guards reads from tests
	contacts map[string]*contactPresence

	lists map[string][]sdk.Watcher // the last watcher list of each watched AOR (the worker's)

	// XMPP -> SIP subscriptions (subsip.go); sip nil: none.
	sip      subscriber
	calls    sync.Map            // Call-ID -> pairRef, read by the NOTIFY handler
	expiry   map[string]int64    // Call-ID -> unix expiry (the worker's)
	lastCSeq map[string]uint32   // Call-ID -> CSeq of the last NOTIFY applied (the worker's)
	shown    map[string]Presence // pair key -> our user's last presence from the agent (the worker's)
}

func newPresenceGW(g *Gateway, host presenceHost) *presenceGW {
	return &presenceGW{g: g, host: host, queue: make(chan func(context.Context), maxPresenceQueue),
		contacts: make(map[string]*contactPresence), lists: make(map[string][]sdk.Watcher),
		expiry: make(map[string]int64), lastCSeq: make(map[string]uint32), shown: make(map[string]Presence)}
}

// enqueue hands work to the worker; false when the queue is full.
func (p *presenceGW) enqueue(f func(ctx context.Context)) bool {
	select {
	case p.queue <- f:
		return true
	default:
		p.g.log.Warn("presence queue full: dropped")
		return false
	}
}

// run is the worker: queued work in order, refreshes, and a resync each
// time the component link comes up (changed, when not nil, is the
// link's state-change notifier).
func (p *presenceGW) run(ctx context.Context, out sender) {
	tick := time.NewTicker(refreshTick)
	defer tick.Stop()
	p.resumeDialogs(ctx)
	notifier, _ := out.(interface{ Changed() <-chan struct{} })
	var changed <-chan struct{}
	if notifier != nil {
		changed = notifier.Changed()
		if out.State().Connected { // up before we looked
			p.resync(ctx)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-p.queue:
			f(ctx)
		case <-tick.C:
			p.refresh(ctx)
			p.refreshDialogs(ctx, false)
		case <-changed:
			changed = notifier.Changed()
			if out.State().Connected {
				p.resync(ctx)
			}
		}
	}
}

// send writes a presence stanza of type typ from one bare JID to another.
func (p *presenceGW) send(ctx context.Context, typ stanza.PresenceType, from, to jid.JID) error {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	out := p.g.state().out
	if out == nil {
		return ErrNotConnected
	}
	pr := stanza.Presence{ID: newID(), From: from, To: to, Type: typ}
	return out.Send(ctx, pr.Wrap(nil))
}

func pairKey(contact, ours jid.JID) (string, bool) {
	k := kvSubPrefix + contact.Bare().String() + "/" + ours.Bare().String()
	return k, len(k) <= maxKeyBytes
}

func (p *presenceGW) getPair(ctx context.Context, key string) pairState {
	ctx, cancel := context.WithTimeout(ctx, hostTimeout)
	defer cancel()
	var st pairState
	v, ok, err := p.host.KVGet(ctx, key)
	if err != nil {
		p.g.log.Warn("subscription state not read", "key", key, "err", err)
	}
	if ok {
		_ = json.Unmarshal(v, &st)
	}
	p.g.m.pair(key, st)
	return st
}

func (p *presenceGW) putPair(ctx context.Context, key string, st pairState) {
	ctx, cancel := context.WithTimeout(ctx, hostTimeout)
	defer cancel()
	var err error
	if st.empty() {
		err = p.host.KVDelete(ctx, key)
	} else {
		st.Since = p.g.now().Unix()
		v, _ := json.Marshal(st)
		err = p.host.KVPut(ctx, key, v)
	}
	if err != nil {
		p.g.log.Warn("subscription state not stored", "key", key, "err", err)
		return
	}
	p.g.m.pair(key, st)
}

// watchers mirrors the node's list of watchers of aor (a contact's SIP
// AOR) as XMPP subscriptions: subscribe for a new one, unsubscribe for
// one gone. A pair already approved gets a probe when the contact's
// presence is not known here (a new instance after a lease move).
func (p *presenceGW) watchers(ctx context.Context, aor string, ws []sdk.Watcher) {
	if len(ws) == 0 {
		delete(p.lists, aor)
	} else {
		p.lists[aor] = ws
	}
	cfg := p.g.state().cfg
	addr, err := ParseSIPAddress("sip:" + aor)
	if err != nil {
		p.g.log.Info("watched address not mapped", "aor", aor, "err", err)
		return
	}
	addr.GRUU = ""
	contact, err := addr.JID()
	if err != nil {
		p.g.log.Info("watched address not mapped", "aor", aor, "err", err)
		return
	}
	want := map[string]jid.JID{}
	for _, w := range ws {
		wa, err := ParseSIPAddress("sip:" + w.Watcher)
		if err != nil || wa.Host != cfg.Component {
			p.g.log.Info("watcher outside the component's domain: not mirrored", "watcher", w.Watcher, "aor", aor)
			continue
		}
		wa.GRUU = ""
		ours, err := wa.JID()
		if err != nil {
			p.g.log.Info("watcher not mapped", "watcher", w.Watcher, "err", err)
			continue
		}
		want[ours.String()] = ours
	}
	for _, ours := range want {
		key, ok := pairKey(contact, ours)
		if !ok {
			p.g.log.Info("subscription key too long: not mirrored", "contact", contact.String(), "watcher", ours.String())
			continue
		}
		st := p.getPair(ctx, key)
		switch st.Out {
		case subNone:
			if err := p.send(ctx, stanza.SubscribePresence, ours, contact); err != nil {
				p.g.log.Warn("subscribe not sent", "from", ours.String(), "to", contact.String(), "err", err)
				continue // the next watcher change or link resync tries again
			}
			st.Out = subPending
			p.putPair(ctx, key, st)
			p.g.log.Info("subscription requested", "from", ours.String(), "to", contact.String())
		case subYes:
			if !p.known(contact) {
				_ = p.send(ctx, stanza.ProbePresence, ours, contact)
			}
		}
	}
	// Pairs of this contact whose watcher is gone.
	prefix := kvSubPrefix + contact.String() + "/"
	lctx, cancel := context.WithTimeout(ctx, hostTimeout)
	keys, err := p.host.KVList(lctx, prefix)
	cancel()
	if err != nil {
		p.g.log.Warn("subscription states not listed", "err", err)
		return
	}
	for _, key := range keys {
		ours, err := jid.Parse(strings.TrimPrefix(key, prefix))
		if err != nil {
			continue
		}
		if _, ok := want[ours.String()]; ok {
			continue
		}
		st := p.getPair(ctx, key)
		if st.Out == subNone {
			continue
		}
		if err := p.send(ctx, stanza.UnsubscribePresence, ours, contact); err != nil {
			p.g.log.Warn("unsubscribe not sent", "from", ours.String(), "to", contact.String(), "err", err)
			continue
		}
		st.Out = subNone
		p.putPair(ctx, key, st)
		p.g.log.Info("subscription cancelled", "from", ours.String(), "to", contact.String())
	}
}

// known: the contact's presence has been received by this instance.
func (p *presenceGW) known(contact jid.JID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.contacts[contact.String()]
	return ok
}

// resync runs when the link comes up: the last watcher list of each
// address again (a subscribe that could not be sent while the link was
// down goes now; approved pairs of contacts not seen are probed), then a
// probe for every other approved pair (presence may have changed while
// the link was down).
func (p *presenceGW) resync(ctx context.Context) {
	replayed := map[string]bool{}
	for aor, ws := range p.lists {
		p.watchers(ctx, aor, ws)
		if a, err := ParseSIPAddress("sip:" + aor); err == nil {
			a.GRUU = ""
			if j, err := a.JID(); err == nil {
				replayed[j.String()] = true
			}
		}
	}
	for _, ref := range p.storedPairs(ctx) {
		if replayed[ref.contact.String()] {
			continue
		}
		if st := p.getPair(ctx, ref.key); st.Out == subYes {
			if err := p.send(ctx, stanza.ProbePresence, ref.ours, ref.contact); err != nil {
				p.g.log.Warn("probe not sent", "to", ref.contact.String(), "err", err)
				return
			}
		}
	}
}

// storedPairs lists the pairs in the key/value store.
func (p *presenceGW) storedPairs(ctx context.Context) []pairRef {
	lctx, cancel := context.WithTimeout(ctx, hostTimeout)
	keys, err := p.host.KVList(lctx, kvSubPrefix)
	cancel()
	if err != nil {
		p.g.log.Warn("subscription states not listed", "err", err)
		return nil
	}
	var out []pairRef
	for _, key := range keys {
		contactS, oursS, ok := strings.Cut(strings.TrimPrefix(key, kvSubPrefix), "/")
		if !ok {
			continue
		}
		contact, err1 := jid.Parse(contactS)
		ours, err2 := jid.Parse(oursS)
		if err1 == nil && err2 == nil {
			out = append(out, pairRef{key, contact, ours})
		}
	}
	return out
}

// inPresence is a <presence/> as the gateway reads it.
type inPresence struct {
	stanza.Presence
	Show     string        `xml:"show"`
	Statuses []langText    `xml:"status"`
	Priority string        `xml:"priority"`
	Err      *stanza.Error `xml:"error"`
}

// decodePresence reads the whole <presence/> that start opens from r,
// reading at most limit bytes of text.
func decodePresence(start xml.StartElement, r xml.TokenReader, limit int) (inPresence, error) {
	var pr inPresence
	lr := &limitReader{r: xmlstream.MultiReader(xmlstream.Token(start), r), left: limit}
	err := xml.NewTokenDecoder(lr).Decode(&pr)
	switch {
	case lr.over:
		return pr, ErrStanzaTooBig
	case err != nil:
		return pr, fmt.Errorf("%w: %v", ErrBadStanza, err)
	}
	return pr, nil
}

// maxPresenceBytes bounds the text of one presence stanza.
const maxPresenceBytes = 16 << 10

// presence handles one <presence/> from the server (inside the stream
// handler: it decodes, checks and queues; nothing is answered at once).
func (g *Gateway) presence(st state, start xml.StartElement, r xml.TokenReader) {
	p := st.pres
	if p == nil {
		return
	}
	pr, err := decodePresence(start, r, maxPresenceBytes)
	if err != nil {
		g.log.Debug("presence stanza dropped", "err", err)
		return
	}
	if pr.To.Domainpart() != st.cfg.Component || pr.To.Localpart() == "" ||
		!contains(st.cfg.Domains, pr.From.Domainpart()) || pr.From.Localpart() == "" {
		return // not between a contact and one of our users
	}
	contact, ours := pr.From.Bare(), pr.To.Bare()
	switch pr.Type {
	case stanza.AvailablePresence, stanza.UnavailablePresence:
		one := Presence{Resource: pr.From.Resourcepart(), Unavailable: pr.Type == stanza.UnavailablePresence,
			Show: strings.TrimSpace(pr.Show), Status: pick(pr.Statuses, pr.Lang), Updated: g.now()}
		switch one.Show {
		case ShowNone, ShowChat, ShowAway, ShowXA, ShowDND:
		default:
			one.Show = ShowNone // RFC 6121 4.7.2.1: an unknown show reads as available
		}
		if n, err := strconv.Atoi(strings.TrimSpace(pr.Priority)); err == nil && n >= -128 && n <= 127 {
			one.Priority = int8(n)
		}
		p.enqueue(func(ctx context.Context) { p.update(ctx, contact, one) })
	case stanza.SubscribedPresence, stanza.UnsubscribedPresence, stanza.ErrorPresence:
		p.enqueue(func(ctx context.Context) { p.subscription(ctx, pr.Type, contact, ours) })
	case stanza.SubscribePresence:
		p.enqueue(func(ctx context.Context) { p.subscribeIn(ctx, contact, ours) })
	case stanza.UnsubscribePresence:
		p.enqueue(func(ctx context.Context) { p.unsubscribeIn(ctx, contact, ours) })
	case stanza.ProbePresence:
		p.enqueue(func(ctx context.Context) { p.probe(ctx, contact, ours) })
	}
}

// subscription applies a contact's answer to our user's subscription
// (RFC 6121 appendix A, the Out direction). Nothing is ever answered with
// a subscription request. The contact's own subscribe and unsubscribe
// (the In direction) go to SIP (subsip.go).
func (p *presenceGW) subscription(ctx context.Context, typ stanza.PresenceType, contact, ours jid.JID) {
	key, ok := pairKey(contact, ours)
	if !ok {
		return
	}
	st := p.getPair(ctx, key)
	before := st
	switch typ {
	case stanza.SubscribedPresence:
		if st.Out == subPending { // unsolicited: ignored (RFC 6121 3.1.5)
			st.Out = subYes
		}
	case stanza.UnsubscribedPresence, stanza.ErrorPresence:
		st.Out = subNone // refused, cancelled, or undeliverable
	}
	if st == before {
		return // nothing changed: nothing stored, nothing sent
	}
	p.putPair(ctx, key, st)
	p.g.log.Info("subscription state", "contact", contact.String(), "user", ours.String(), "stanza", string(typ), "out", st.Out, "in", st.In)
}

// update records one resource's presence and publishes the contact's
// document when it changed.
func (p *presenceGW) update(ctx context.Context, contact jid.JID, one Presence) {
	p.mu.Lock()
	c := p.contacts[contact.String()]
	if c == nil {
		if len(p.contacts) >= maxContacts {
			p.mu.Unlock()
			p.g.log.Warn("too many contacts with presence: dropped", "contact", contact.String())
			return
		}
		c = &contactPresence{res: map[string]Presence{}}
		p.contacts[contact.String()] = c
	}
	if prev, ok := c.res[one.Resource]; ok && prev.Show == one.Show && prev.Status == one.Status &&
		prev.Priority == one.Priority && prev.Unavailable == one.Unavailable {
		p.mu.Unlock()
		return // the same again (one copy per subscribed user of ours)
	}
	if _, ok := c.res[one.Resource]; !ok && len(c.res) >= maxResources && !one.Unavailable {
		p.mu.Unlock()
		return
	}
	c.res[one.Resource] = one
	var pres []Presence
	available := false
	for _, r := range c.res {
		pres = append(pres, r)
		available = available || !r.Unavailable
	}
	sort.Slice(pres, func(i, j int) bool { return pres[i].Resource < pres[j].Resource })
	if available {
		// Unavailable resources drop out of the document once another
		// is available.
		for r, v := range c.res {
			if v.Unavailable {
				delete(c.res, r)
			}
		}
		pres = pres[:0]
		for _, r := range c.res {
			pres = append(pres, r)
		}
		sort.Slice(pres, func(i, j int) bool { return pres[i].Resource < pres[j].Resource })
	} else {
		// The last resource went: offline, then nothing held.
		c.res = map[string]Presence{}
		pres = []Presence{one}
	}
	p.mu.Unlock()
	addr, err := SIPFromJID(contact)
	if err != nil {
		return
	}
	body := string(PIDFFromPresences(addr.String(), pres))
	p.publish(ctx, contact, addr.AOR(), c, body, !available)
}

// publish writes body as the contact's publication, replacing the
// previous one (its ETag in memory, or in the key/value store after a
// lease move).
func (p *presenceGW) publish(ctx context.Context, contact jid.JID, aor string, c *contactPresence, body string, offline bool) {
	etagKey := kvETagPrefix + contact.String()
	if len(etagKey) > maxKeyBytes {
		etagKey = ""
	}
	p.mu.Lock()
	etag := c.etag
	p.mu.Unlock()
	if etag == "" && etagKey != "" {
		gctx, cancel := context.WithTimeout(ctx, hostTimeout)
		if v, ok, _ := p.host.KVGet(gctx, etagKey); ok {
			etag = string(v)
		}
		cancel()
	}
	pctx, cancel := context.WithTimeout(ctx, hostTimeout)
	defer cancel()
	newTag, err := p.host.PublishPresence(pctx, aor, body, publishExpiry, etag)
	if err != nil && etag != "" { // the old publication lapsed
		newTag, err = p.host.PublishPresence(pctx, aor, body, publishExpiry, "")
	}
	if err != nil {
		p.g.log.Warn("presence not published", "aor", aor, "err", err)
		return
	}
	p.mu.Lock()
	c.etag, c.body, c.expires, c.offline = newTag, body, p.g.now().Add(publishExpiry), offline
	if offline {
		delete(p.contacts, contact.String())
	}
	p.mu.Unlock()
	if etagKey != "" {
		if err := p.host.KVPut(pctx, etagKey, []byte(newTag)); err != nil {
			p.g.log.Warn("presence etag not stored", "aor", aor, "err", err)
		}
	}
	p.g.log.Debug("presence published", "aor", aor, "offline", offline)
}

// refresh republishes the documents that expire soon (offline ones are
// not held, so they lapse).
func (p *presenceGW) refresh(ctx context.Context) {
	now := p.g.now()
	type job struct {
		contact jid.JID
		c       *contactPresence
		body    string
	}
	var jobs []job
	p.mu.Lock()
	for k, c := range p.contacts {
		if c.body != "" && !c.offline && c.expires.Sub(now) < refreshBefore {
			j, err := jid.Parse(k)
			if err == nil {
				jobs = append(jobs, job{j, c, c.body})
			}
		}
	}
	p.mu.Unlock()
	for _, j := range jobs {
		addr, err := SIPFromJID(j.contact)
		if err != nil {
			continue
		}
		p.publish(ctx, j.contact, addr.AOR(), j.c, j.body, false)
	}
}

// onWatchers is sdk.App.OnWatchers: queued for the worker.
func (g *Gateway) onWatchers(_ context.Context, aor string, ws []sdk.Watcher) {
	g.mu.Lock()
	p := g.pres
	g.mu.Unlock()
	if p == nil {
		return
	}
	ws = append([]sdk.Watcher(nil), ws...)
	p.enqueue(func(ctx context.Context) { p.watchers(ctx, aor, ws) })
}
