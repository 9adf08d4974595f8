package webrtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// byeTimeout bounds a BYE the gateway sends.
const byeTimeout = 10 * time.Second

// setupTimeout bounds the other leg's setup (the caller's INVITE
// transaction gives up after 3 minutes anyway).
const setupTimeout = 3 * time.Minute

// reofferTimeout bounds answering a re-INVITE (ICE gathering of pion's
// answer).
const reofferTimeout = 10 * time.Second

// call is one bridged call: the caller's server dialog (leg A), the
// callee's client dialog (leg B) and the media bridge. Either the
// browser calls a phone (leg A is the browser) or, with toBrowser, a
// phone calls a browser (leg A is the phone). One goroutine (run) owns
// it from the INVITE to the release; hangup asks it to end.
type call struct {
	a         *agent
	log       *slog.Logger
	req       *sip.Request
	tx        sip.ServerTransaction
	target    sip.Uri
	toBrowser bool
	br        *bridge
	ctx       context.Context
	cancel    context.CancelFunc
	started   time.Time

	legA     *sipgo.DialogServerSession
	legB     *sipgo.DialogClientSession // set by run before WaitAnswer
	answered bool                       // leg A got its 200
	why      string
}

// newCall admits a call (max-calls, a port pair, a common codec); a nil
// call comes with the code and reason to answer.
func (a *agent) newCall(req *sip.Request, tx sip.ServerTransaction, target sip.Uri, toBrowser bool) (*call, int, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, 503, "Service Unavailable (gateway closing)"
	}
	if len(a.active) >= a.cfg.MaxCalls {
		return nil, 503, "Service Unavailable (max-calls reached)"
	}
	cache := a.browserIn
	if toBrowser {
		cache = a.phoneIn
	}
	legA, err := cache.ReadInvite(req, tx)
	if err != nil {
		return nil, 400, "Bad Request (" + reason(err) + ")"
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &call{a: a, req: req, tx: tx, target: target, toBrowser: toBrowser, legA: legA, ctx: ctx, cancel: cancel, started: time.Now(),
		log: a.log.With("call_id", callID(req), "to_browser", toBrowser)}
	if toBrowser {
		c.br, err = a.env.newBridgeFromPhone(req.Body(), c.log, c.hangup)
	} else {
		c.br, err = a.env.newBridge(req.Body(), c.log, c.hangup)
	}
	if err != nil {
		cancel()
		legA.Close()
		switch {
		case errors.Is(err, ErrNoPorts):
			return nil, 503, "Service Unavailable (no free RTP port)"
		default:
			return nil, 488, "Not Acceptable Here (" + reason(err) + ")"
		}
	}
	c.br.setOnDigit(c.digitToBrowser)
	a.active[c] = struct{}{}
	a.calls.Add(1)
	a.stats.Calls.Add(1)
	tx.OnCancel(func(*sip.Request) { c.hangup("cancel from " + c.sideOf(true)) })
	return c, 0, ""
}

// sideOf names leg A (caller true) or leg B for logs: browser or phone.
func (c *call) sideOf(caller bool) string {
	if caller != c.toBrowser {
		return "browser"
	}
	return "phone"
}

// hangup ends the call from any goroutine (run releases it).
func (c *call) hangup(why string) {
	c.a.mu.Lock()
	if c.why == "" {
		c.why = why
	}
	c.a.mu.Unlock()
	c.cancel()
}

// hasDialog reports whether id is one of the call's dialogs.
func (c *call) hasDialog(id string) bool {
	return c.legA.ID == id || (c.legB != nil && c.legB.ID == id)
}

// run places leg B and answers leg A on the INVITE handler's goroutine
// (sipgo ends the server transaction when the handler returns), then
// waits for the end on its own and releases everything.
func (c *call) run() {
	if !c.setup() {
		c.release()
		c.a.calls.Done()
		return
	}
	go func() {
		defer c.a.calls.Done()
		<-c.ctx.Done()
		c.release()
	}()
}

// setup brings both legs up; false: the call failed (answered).
func (c *call) setup() bool {
	setup, done := context.WithTimeout(c.ctx, setupTimeout)
	defer done()
	var offer []byte
	var err error
	if c.toBrowser {
		offer, err = c.br.browserOffer(setup)
	} else {
		offer, err = c.br.plainOffer()
	}
	if err != nil {
		c.fail(500, "Server Internal Error", err)
		return false
	}
	cache, transport, contact := c.a.phoneOut, "UDP", &c.a.contact
	if c.toBrowser {
		// A WebRTC offer is over the UDP size limit (RFC 3261 18.1.1).
		cache, transport, contact = c.a.browserOut, "TCP", &c.a.contactTCP
	}
	legB, err := cache.WriteInvite(setup, c.invite(offer, transport, contact))
	if err != nil {
		c.fail(503, "Service Unavailable (the node's link did not take the call)", err)
		return false
	}
	c.a.mu.Lock()
	c.legB = legB
	c.a.mu.Unlock()
	err = legB.WaitAnswer(setup, sipgo.AnswerOptions{OnResponse: func(res *sip.Response) error {
		if res.StatusCode == 180 || res.StatusCode == 183 {
			_ = c.legA.Respond(180, "Ringing", nil)
		}
		return nil
	}})
	var dr *sipgo.ErrDialogResponse
	switch {
	case errors.As(err, &dr):
		c.fail(dr.Res.StatusCode, dr.Res.Reason, nil)
		return false
	case err != nil:
		c.fail(487, "Request Terminated", err)
		return false
	}
	if err := legB.Ack(setup); err != nil {
		c.fail(500, "Server Internal Error", err)
		return false
	}
	var answer []byte
	if c.toBrowser {
		answer, err = c.br.browserAnswered(legB.InviteResponse.Body())
	} else {
		answer, err = c.br.answer(setup, legB.InviteResponse.Body())
	}
	if err != nil {
		c.fail(488, "Not Acceptable Here ("+reason(err)+")", err)
		return false
	}
	if err := c.legA.RespondSDP(answer); err != nil {
		c.log.Info("webrtc: caller's leg not established", "error", err)
		return false
	}
	c.a.mu.Lock()
	c.answered = true
	c.a.mu.Unlock()
	c.log.Info("webrtc call established", "target", c.target.String(), "media", c.br.String())
	return true
}

// invite is leg B's INVITE: to the target, through the node's link
// (with the link credential), From the caller, asserting the gateway's
// own identity (the only one the link lets it assert).
func (c *call) invite(offer []byte, transport string, contact *sip.ContactHeader) *sip.Request {
	a := c.a
	inv := sip.NewRequest(sip.INVITE, *c.target.Clone())
	inv.SetTransport(transport)
	inv.SetDestination(a.link.Address)
	if transport == "UDP" {
		inv.Laddr = sip.Addr{IP: net.IPv4(127, 0, 0, 1), Port: a.port}
	}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", Host: "invalid"}, Params: sip.NewParams()}
	if f := c.req.From(); f != nil {
		from.DisplayName, from.Address = f.DisplayName, *f.Address.Clone()
	}
	from.Params.Add("tag", sip.GenerateTagN(16))
	inv.AppendHeader(from)
	inv.AppendHeader(&sip.ToHeader{Address: *c.target.Clone(), Params: sip.NewParams()})
	inv.AppendHeader(sip.HeaderClone(contact))
	inv.AppendHeader(sip.NewHeader("P-Asserted-Identity", "<sip:"+a.cfg.Identity+">"))
	if a.link.Token != "" {
		inv.AppendHeader(sip.NewHeader(sdk.LinkHeader, a.link.Token))
	}
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	inv.SetBody(offer)
	return inv
}

// reinvite answers a re-INVITE of either leg locally (RFC 3264 8): the
// media follows the new direction (nothing goes to a side that holds),
// the other leg is not re-INVITEd. A re-INVITE without an offer gets
// the current description again; an unusable offer 488 and no change.
func (c *call) reinvite(req *sip.Request, tx sip.ServerTransaction) {
	fromCaller := c.legA.ID != "" && isDialog(req, c.legA.ID, true)
	fromBrowser := fromCaller != c.toBrowser
	c.a.mu.Lock()
	up := c.answered
	c.a.mu.Unlock()
	if !up {
		c.a.respond(tx, req, 491, "Request Pending")
		return
	}
	var answer []byte
	var err error
	switch {
	case len(req.Body()) == 0:
		err = errors.New("a re-INVITE without an offer is not supported")
	case fromBrowser:
		ctx, cancel := context.WithTimeout(c.ctx, reofferTimeout)
		answer, err = c.br.reofferFromBrowser(ctx, req.Body())
		cancel()
	default:
		answer, err = c.br.reofferFromPhone(req.Body())
	}
	if err != nil {
		c.log.Info("webrtc: re-INVITE refused", "from", c.sideOf(fromCaller), "error", err)
		c.a.respond(tx, req, 488, "Not Acceptable Here ("+reason(err)+")")
		return
	}
	contact := &c.a.contact
	if fromBrowser {
		contact = &c.a.contactTCP
	}
	res := sip.NewSDPResponseFromRequest(req, answer)
	res.AppendHeader(sip.HeaderClone(contact))
	if err := tx.Respond(res); err != nil {
		c.log.Debug("webrtc: re-INVITE answer failed", "error", err)
	}
}

// isDialog reports whether req belongs to the dialog id seen from the
// UAS (uas: leg A) or the UAC (leg B) side.
func isDialog(req *sip.Request, id string, uas bool) bool {
	var got string
	var err error
	if uas {
		got, err = sip.DialogIDFromRequestUAS(req)
	} else {
		got, err = sip.DialogIDFromRequestUAC(req)
	}
	return err == nil && got == id
}

// infoTimeout bounds an INFO the gateway sends.
const infoTimeout = 5 * time.Second

// info handles an INFO of either leg (dtmf.go): a digit from the
// browser goes to the phone as RFC 4733 events when the phone
// negotiated telephone-event, else as an INFO; a digit from the phone
// goes to the browser as an INFO. An INFO without a digit gets 415.
func (c *call) info(req *sip.Request, tx sip.ServerTransaction, fromCaller bool) {
	fromBrowser := fromCaller != c.toBrowser
	c.a.mu.Lock()
	up := c.answered
	c.a.mu.Unlock()
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	switch {
	case !up:
		c.a.respond(tx, req, 491, "Request Pending")
		return
	case !isDTMFInfo(ct):
		c.a.respond(tx, req, 415, "Unsupported Media Type", sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		return
	}
	d, err := parseDTMFInfo(ct, req.Body())
	if err != nil {
		c.a.respond(tx, req, 400, "Bad Request ("+reason(err)+")")
		return
	}
	c.a.respond(tx, req, 200, "OK")
	if fromBrowser && c.br.digitToPhone(d) {
		return
	}
	c.br.spawn(func() { c.sendDigitInfo(!fromBrowser, d) })
}

// digitToBrowser is the bridge's onDigit: a digit the phone sent as RFC
// 4733 reaches the browser as an INFO too (a browser cannot observe the
// RFC 4733 events it receives).
func (c *call) digitToBrowser(d dtmfDigit) { c.sendDigitInfo(true, d) }

// sendDigitInfo sends d as an INFO application/dtmf-relay in the
// browser's dialog (toBrowser) or the phone's.
func (c *call) sendDigitInfo(toBrowser bool, d dtmfDigit) {
	ctx, cancel := context.WithTimeout(c.ctx, infoTimeout)
	defer cancel()
	toCaller := toBrowser != c.toBrowser
	c.a.mu.Lock()
	legB, answered := c.legB, c.answered
	c.a.mu.Unlock()
	if !answered || legB == nil {
		return
	}
	var res *sip.Response
	var err error
	if toCaller {
		req := c.inDialog(sip.INFO, c.req.Contact(), c.req.From().Address, "UDP")
		req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
		req.SetBody(dtmfRelayBody(d))
		res, err = c.legA.Do(ctx, req)
	} else {
		req := c.inDialog(sip.INFO, legB.InviteResponse.Contact(), legB.InviteRequest.Recipient, legB.InviteRequest.Transport())
		req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
		req.SetBody(dtmfRelayBody(d))
		res, err = legB.Do(ctx, req)
	}
	to := c.sideOf(toCaller)
	switch {
	case err != nil:
		c.log.Info("webrtc: DTMF INFO not answered", "to", to, "digit", string(d.digit), "error", err)
	case res.StatusCode/100 != 2:
		c.log.Info("webrtc: DTMF INFO refused", "to", to, "digit", string(d.digit), "code", res.StatusCode)
	default:
		c.log.Info("webrtc: digit sent as INFO", "to", to, "digit", string(d.digit), "duration", d.duration)
	}
}

// summary is one call for the health answer: its Call-ID, who called,
// packets each way and the two sides' directions.
func (c *call) summary() string {
	ph, bw := c.br.directions()
	return fmt.Sprintf("%s;caller=%s;to-phone=%d;to-browser=%d;dropped=%d;phone=%s;browser=%s;seconds=%d;dtmf-to-phone=%d;dtmf-to-browser=%d",
		callID(c.req), c.sideOf(true), c.br.stats.ToPhone.Load(), c.br.stats.ToBrowser.Load(), c.br.stats.Dropped.Load(),
		ph, bw, int(time.Since(c.started).Seconds()), c.br.stats.DigitsToPhone.Load(), c.br.stats.DigitsToBrowser.Load())
}

// fail answers the caller's INVITE when the call did not come up.
func (c *call) fail(code int, why string, err error) {
	if code < 300 || code > 699 {
		code, why = 502, "Bad Gateway"
	}
	if err != nil {
		c.log.Info("webrtc: call not established", "code", code, "error", err)
	}
	_ = c.legA.Respond(code, why, nil)
	c.hangup(why)
}

// release ends both legs (BYE to each that is up), closes the media and
// frees the slot.
func (c *call) release() {
	c.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	c.a.mu.Lock()
	legB, answered, why := c.legB, c.answered, c.why
	c.a.mu.Unlock()
	byB := why == "bye from "+c.sideOf(false)
	byA := why == "bye from "+c.sideOf(true)
	if legB != nil && !byB && legB.InviteResponse != nil && legB.InviteResponse.StatusCode/100 == 2 {
		bye := c.byeTo(legB.InviteResponse.Contact(), legB.InviteRequest.Recipient, legB.InviteRequest.Transport())
		if err := legB.WriteBye(ctx, bye); err != nil {
			c.log.Info("webrtc: BYE to callee not answered 200", "error", err)
		}
	}
	if legB != nil {
		legB.Close()
	}
	if answered && !byA {
		if err := c.legA.WriteBye(ctx, c.byeTo(c.req.Contact(), c.req.From().Address, "UDP")); err != nil {
			c.log.Info("webrtc: BYE to caller not answered 200", "error", err)
		}
	}
	c.legA.Close()
	c.br.close()
	c.a.mu.Lock()
	delete(c.a.active, c)
	c.a.mu.Unlock()
	c.log.Info("webrtc call ended", "reason", why, "duration", time.Since(c.started).Round(time.Millisecond), "media", c.br.String())
}

// byeTo is a BYE to a leg's remote target, with the link credential
// (the dialog's route set leads through the node's link) and the
// gateway's identity asserted (the dialog's From is the caller or the
// callee, which the link does not let the gateway assert).
func (c *call) byeTo(contact *sip.ContactHeader, fallback sip.Uri, transport string) *sip.Request {
	return c.inDialog(sip.BYE, contact, fallback, transport)
}

// inDialog is a request of the gateway's in a leg's dialog (BYE, INFO):
// to the remote target, with the link credential and the gateway's
// identity asserted.
func (c *call) inDialog(method sip.RequestMethod, contact *sip.ContactHeader, fallback sip.Uri, transport string) *sip.Request {
	target := fallback
	if contact != nil {
		target = contact.Address
	}
	bye := sip.NewRequest(method, *target.Clone())
	bye.SetTransport(transport)
	if transport == "UDP" {
		bye.Laddr = sip.Addr{IP: net.IPv4(127, 0, 0, 1), Port: c.a.port}
	}
	bye.AppendHeader(sip.NewHeader("P-Asserted-Identity", "<sip:"+c.a.cfg.Identity+">"))
	if tok := c.a.link.Token; tok != "" {
		bye.AppendHeader(sip.NewHeader(sdk.LinkHeader, tok))
	}
	return bye
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}
