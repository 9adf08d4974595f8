package xmpp

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/presdoc"
	"github.com/parley-rtc/parley/plugins/sdk/sdktest"
)

// fakeSubscriber stands for the node's presence agent on the SIP link:
// it records each SUBSCRIBE and answers it with answer(req) (200 with a
// To tag and the asked Expires by default).
type fakeSubscriber struct {
	mu     sync.Mutex
	answer func(req *sip.Request) int
	reqs   chan *sip.Request
}

func (f *fakeSubscriber) Do(_ context.Context, req *sip.Request) (*sip.Response, error) {
	f.mu.Lock()
	answer := f.answer
	f.mu.Unlock()
	code := 200
	if answer != nil {
		code = answer(req)
	}
	f.reqs <- req
	res := sip.NewResponseFromRequest(req, code, "", nil)
	if to := res.To(); to != nil && code < 300 {
		if _, ok := req.To().Params.Get("tag"); !ok {
			to.Params.Remove("tag")
			to.Params.Add("tag", "agent-tag")
		}
		res.AppendHeader(sip.NewHeader("Expires", req.GetHeader("Expires").Value()))
	}
	return res, nil
}

func (f *fakeSubscriber) next(t *testing.T) *sip.Request {
	t.Helper()
	select {
	case r := <-f.reqs:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no SUBSCRIBE sent")
		return nil
	}
}

func (f *fakeSubscriber) none(t *testing.T) {
	t.Helper()
	select {
	case r := <-f.reqs:
		t.Fatalf("sent %s, want nothing", r.StartLine())
	default:
	}
}

// subGateway is a test gateway with a presence worker that subscribes
// through a fake SIP link; host may hold stored pair states already.
func subGateway(t *testing.T, host *pubHost) (*Gateway, *fakeLink, *pubHost, *presenceGW, *fakeSubscriber) {
	g, link, _ := testGateway(t, testConfig(), 200)
	if host == nil {
		host = &pubHost{MemHost: sdktest.NewMemHost(), pubs: make(chan publication, 64)}
	}
	p := g.installPresence(host)
	sub := &fakeSubscriber{reqs: make(chan *sip.Request, 16)}
	p.sip = sub
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.run(ctx, link) }()
	t.Cleanup(func() { cancel(); <-done })
	return g, link, host, p, sub
}

// notifyFor delivers a NOTIFY of the dialog req opened, as the user
// agent would.
func notifyFor(t *testing.T, p *presenceGW, req *sip.Request, cseq uint32, subState string, body []byte) {
	t.Helper()
	st, reason, exp := parseSubState(subState)
	if !p.onNotify(notifyIn{CallID: string(*req.CallID()), CSeq: cseq, State: st, Reason: reason, Expires: exp, Body: body}) {
		t.Fatalf("NOTIFY for %s refused as unknown", string(*req.CallID()))
	}
	p.settle()
}

func wantStanza(t *testing.T, link *fakeLink, parts ...string) string {
	t.Helper()
	s := link.next(t)
	for _, w := range parts {
		if !strings.Contains(s, w) {
			t.Fatalf("stanza %s lacks %s", s, w)
		}
	}
	return s
}

// TestSubscribeXMPPToSIPConsent: a contact's subscribe becomes a SIP
// SUBSCRIBE from its SIP address; while the agent says pending nothing
// reaches the contact, however often it asks; active brings
// 'subscribed' and then the presence of the NOTIFYs at the table's
// levels; a probe is answered from the last one; an older NOTIFY is
// ignored; unsubscribe ends the SIP subscription in its dialog.
func TestSubscribeXMPPToSIPConsent(t *testing.T) {
	g, link, host, p, sub := subGateway(t, nil)
	handle(t, g, `<presence from="juliet@xmpp.test/balcony" to="alice@gw.test" type="subscribe"/>`)
	req := sub.next(t)
	if req.Method != sip.SUBSCRIBE || req.Recipient.String() != "sip:alice@gw.test" || req.From().Address.String() != "sip:juliet@xmpp.test" ||
		req.GetHeader("Event").Value() != "presence" || req.GetHeader("Expires").Value() != "3600" || req.CSeq().SeqNo != 1 {
		t.Fatalf("SUBSCRIBE:\n%s", req)
	}
	if _, ok := req.To().Params.Get("tag"); ok {
		t.Fatal("initial SUBSCRIBE with a To tag")
	}
	p.settle()
	st := host.pair(t, "juliet@xmpp.test", "alice@gw.test")
	if st.In != subPending || st.Dlg == nil || st.Dlg.ToTag != "agent-tag" || st.Dlg.CallID != string(*req.CallID()) {
		t.Fatalf("pair %+v %+v, want in pending with the dialog", st, st.Dlg)
	}
	notifyFor(t, p, req, 5, "pending;expires=3600", nil)
	noStanza(t, link)
	handle(t, g, `<presence from="juliet@xmpp.test/balcony" to="alice@gw.test" type="subscribe"/>`)
	p.settle()
	sub.none(t)
	noStanza(t, link)

	// alice allows: subscribed, then her presence.
	busy := presdoc.Compose("pres:alice@gw.test", presdoc.InAMeeting, nil, "budget")
	notifyFor(t, p, req, 7, "active;expires=3500", busy)
	wantStanza(t, link, `type="subscribed"`, `from="alice@gw.test"`, `to="juliet@xmpp.test"`)
	wantStanza(t, link, `<show>dnd</show>`, `<status>In a meeting: budget</status>`, `from="alice@gw.test"`)
	if st := host.pair(t, "juliet@xmpp.test", "alice@gw.test"); st.In != subYes {
		t.Fatalf("pair %+v, want in yes", st)
	}
	notifyFor(t, p, req, 6, "active;expires=3500", presdoc.Compose("pres:alice@gw.test", presdoc.Away, nil, ""))
	noStanza(t, link) // older than the last one applied
	notifyFor(t, p, req, 9, "active;expires=3400", presdoc.Compose("pres:alice@gw.test", presdoc.BeRightBack, nil, ""))
	wantStanza(t, link, `<show>away</show>`, `<status>Be right back</status>`)
	noStanza(t, link) // no second 'subscribed'

	handle(t, g, `<presence from="juliet@xmpp.test" to="alice@gw.test" type="probe"/>`)
	p.settle()
	wantStanza(t, link, `<show>away</show>`, `<status>Be right back</status>`)

	// Offline: unavailable.
	notifyFor(t, p, req, 10, "active;expires=3400", presdoc.Compose("pres:alice@gw.test", presdoc.Offline, nil, ""))
	wantStanza(t, link, `type="unavailable"`)

	// The contact cancels: Expires 0 in the dialog, unavailable, state gone.
	handle(t, g, `<presence from="juliet@xmpp.test" to="alice@gw.test" type="unsubscribe"/>`)
	un := sub.next(t)
	if tag, _ := un.To().Params.Get("tag"); tag != "agent-tag" || un.GetHeader("Expires").Value() != "0" ||
		string(*un.CallID()) != string(*req.CallID()) || un.CSeq().SeqNo != 2 {
		t.Fatalf("unsubscribe:\n%s", un)
	}
	p.settle()
	wantStanza(t, link, `type="unavailable"`)
	if st := host.pair(t, "juliet@xmpp.test", "alice@gw.test"); !st.empty() {
		t.Fatalf("pair %+v after unsubscribe, want none", st)
	}
	if p.onNotify(notifyIn{CallID: string(*req.CallID()), CSeq: 11, State: "terminated", Reason: "timeout"}) {
		t.Error("the ended dialog's final NOTIFY taken as known")
	}
}

// TestSubscribeXMPPToSIPRefused: terminated;reason=rejected (our user
// blocked the pending contact) -> unsubscribed and unavailable, nothing
// kept; a later probe gets unsubscribed; a SUBSCRIBE the node refuses
// (404, no such user) -> unsubscribed at once.
func TestSubscribeXMPPToSIPRefused(t *testing.T) {
	g, link, host, p, sub := subGateway(t, nil)
	handle(t, g, `<presence from="romeo@xmpp.test" to="alice@gw.test" type="subscribe"/>`)
	req := sub.next(t)
	p.settle()
	notifyFor(t, p, req, 2, "pending", nil)
	notifyFor(t, p, req, 3, "terminated;reason=rejected", nil)
	wantStanza(t, link, `type="unsubscribed"`, `from="alice@gw.test"`, `to="romeo@xmpp.test"`)
	wantStanza(t, link, `type="unavailable"`)
	if st := host.pair(t, "romeo@xmpp.test", "alice@gw.test"); !st.empty() {
		t.Fatalf("pair %+v after the refusal", st)
	}
	handle(t, g, `<presence from="romeo@xmpp.test" to="alice@gw.test" type="probe"/>`)
	p.settle()
	wantStanza(t, link, `type="unsubscribed"`)
	wantStanza(t, link, `type="unavailable"`)

	sub.mu.Lock()
	sub.answer = func(*sip.Request) int { return 404 }
	sub.mu.Unlock()
	handle(t, g, `<presence from="romeo@xmpp.test" to="nobody@gw.test" type="subscribe"/>`)
	sub.next(t)
	p.settle()
	wantStanza(t, link, `type="unsubscribed"`, `from="nobody@gw.test"`)
}

// TestSubscribeXMPPToSIPResume: a new instance (lease move) finds the
// dialog in the key/value store and refreshes it at once (so that the
// agent's NOTIFYs come to it), in the dialog with the next CSeq; a
// refresh answered 481 starts a new dialog; a subscription that lapsed
// (terminated;reason=timeout) is subscribed again without telling the
// contact anything.
func TestSubscribeXMPPToSIPResume(t *testing.T) {
	host := &pubHost{MemHost: sdktest.NewMemHost(), pubs: make(chan publication, 64)}
	old := pairState{In: subYes, Dlg: &sipDialog{CallID: "c1@gw.test", FromTag: "ft", ToTag: "tt", CSeq: 4, Expires: time.Now().Add(time.Hour).Unix()}}
	v, _ := json.Marshal(old)
	_ = host.KVPut(context.Background(), kvSubPrefix+"juliet@xmpp.test/alice@gw.test", v)
	_, link, _, p, sub := subGateway(t, host)
	ref := sub.next(t)
	if string(*ref.CallID()) != "c1@gw.test" || ref.CSeq().SeqNo != 5 {
		t.Fatalf("resume refresh:\n%s", ref)
	}
	if tag, _ := ref.To().Params.Get("tag"); tag != "tt" {
		t.Fatalf("resume refresh without the dialog's To tag:\n%s", ref)
	}
	p.settle()
	noStanza(t, link)

	// A refresh the agent no longer knows: a new dialog.
	sub.mu.Lock()
	sub.answer = func(r *sip.Request) int {
		if _, ok := r.To().Params.Get("tag"); ok {
			return 481
		}
		return 200
	}
	sub.mu.Unlock()
	p.queue <- func(ctx context.Context) { p.refreshDialogs(ctx, true) }
	sub.next(t) // the refresh, 481
	fresh := sub.next(t)
	if string(*fresh.CallID()) == "c1@gw.test" || fresh.CSeq().SeqNo != 1 {
		t.Fatalf("after 481, want a new dialog:\n%s", fresh)
	}
	p.settle()
	st := host.pair(t, "juliet@xmpp.test", "alice@gw.test")
	if st.In != subYes || st.Dlg == nil || st.Dlg.CallID != string(*fresh.CallID()) {
		t.Fatalf("pair %+v", st)
	}
	notifyFor(t, p, fresh, 2, "terminated;reason=timeout", nil)
	again := sub.next(t)
	if string(*again.CallID()) == string(*fresh.CallID()) {
		t.Fatal("lapsed subscription not started again in a new dialog")
	}
	p.settle()
	noStanza(t, link)
	if st := host.pair(t, "juliet@xmpp.test", "alice@gw.test"); st.In != subYes || st.Dlg == nil {
		t.Fatalf("pair %+v after the lapse", st)
	}
}

func TestParseSubState(t *testing.T) {
	for _, tc := range []struct {
		in, state, reason string
		exp               int
	}{
		{"active;expires=3600", "active", "", 3600},
		{"Pending", "pending", "", -1},
		{"terminated;reason=rejected", "terminated", "rejected", -1},
		{"terminated; reason=timeout ;retry-after=5", "terminated", "timeout", -1},
		{"active;expires=x", "active", "", -1},
	} {
		s, r, e := parseSubState(tc.in)
		if s != tc.state || r != tc.reason || e != tc.exp {
			t.Errorf("%q: %q %q %d", tc.in, s, r, e)
		}
	}
}
