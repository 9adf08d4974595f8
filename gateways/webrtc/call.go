package webrtc

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// byeTimeout bounds a BYE the gateway sends.
const byeTimeout = 10 * time.Second

// setupTimeout bounds the phone leg's setup (the caller's INVITE
// transaction gives up after 3 minutes anyway).
const setupTimeout = 3 * time.Minute

// call is one bridged call: the browser's server dialog (leg A), the
// phone's client dialog (leg B) and the media bridge. One goroutine
// (run) owns it from the INVITE to the release; hangup asks it to end.
type call struct {
	a       *agent
	log     *slog.Logger
	req     *sip.Request
	tx      sip.ServerTransaction
	target  sip.Uri
	br      *bridge
	ctx     context.Context
	cancel  context.CancelFunc
	started time.Time

	legA     *sipgo.DialogServerSession
	legB     *sipgo.DialogClientSession // set by run before WaitAnswer
	answered bool                       // leg A got its 200
	why      string
}

// newCall admits a call (max-calls, a port pair, a common codec); a nil
// call comes with the code and reason to answer.
func (a *agent) newCall(req *sip.Request, tx sip.ServerTransaction, target sip.Uri) (*call, int, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, 503, "Service Unavailable (gateway closing)"
	}
	if len(a.active) >= a.cfg.MaxCalls {
		return nil, 503, "Service Unavailable (max-calls reached)"
	}
	legA, err := a.browser.ReadInvite(req, tx)
	if err != nil {
		return nil, 400, "Bad Request (" + reason(err) + ")"
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &call{a: a, req: req, tx: tx, target: target, legA: legA, ctx: ctx, cancel: cancel, started: time.Now(),
		log: a.log.With("call_id", callID(req))}
	c.br, err = a.env.newBridge(req.Body(), c.log, c.hangup)
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
	a.active[c] = struct{}{}
	a.calls.Add(1)
	tx.OnCancel(func(*sip.Request) { c.hangup("cancel from browser") })
	return c, 0, ""
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

// run places the phone leg and answers the browser on the INVITE
// handler's goroutine (sipgo ends the server transaction when the
// handler returns), then waits for the end on its own and releases
// everything.
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
	offer, err := c.br.plainOffer()
	if err != nil {
		c.fail(500, "Server Internal Error", err)
		return false
	}
	setup, done := context.WithTimeout(c.ctx, setupTimeout)
	defer done()
	inv := c.phoneInvite(offer)
	legB, err := c.a.phone.WriteInvite(setup, inv)
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
	answer, err := c.br.answer(setup, legB.InviteResponse.Body())
	if err != nil {
		c.fail(488, "Not Acceptable Here ("+reason(err)+")", err)
		return false
	}
	if err := c.legA.RespondSDP(answer); err != nil {
		c.log.Info("webrtc: browser leg not established", "error", err)
		return false
	}
	c.a.mu.Lock()
	c.answered = true
	c.a.mu.Unlock()
	c.log.Info("webrtc call established", "target", c.target.String(), "media", c.br.String())
	return true
}

// phoneInvite is leg B's INVITE: to the target, through the node's link
// (with the link credential), From the caller, asserting the gateway's
// own identity (the only one the link lets it assert).
func (c *call) phoneInvite(offer []byte) *sip.Request {
	a := c.a
	inv := sip.NewRequest(sip.INVITE, *c.target.Clone())
	inv.SetTransport("UDP")
	inv.SetDestination(a.link.Address)
	inv.Laddr = sip.Addr{IP: net.IPv4(127, 0, 0, 1), Port: a.port}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", Host: "invalid"}, Params: sip.NewParams()}
	if f := c.req.From(); f != nil {
		from.DisplayName, from.Address = f.DisplayName, *f.Address.Clone()
	}
	from.Params.Add("tag", sip.GenerateTagN(16))
	inv.AppendHeader(from)
	inv.AppendHeader(&sip.ToHeader{Address: *c.target.Clone(), Params: sip.NewParams()})
	inv.AppendHeader(sip.HeaderClone(&a.contact))
	inv.AppendHeader(sip.NewHeader("P-Asserted-Identity", "<sip:"+a.cfg.Identity+">"))
	if a.link.Token != "" {
		inv.AppendHeader(sip.NewHeader(sdk.LinkHeader, a.link.Token))
	}
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	inv.SetBody(offer)
	return inv
}

// fail answers the browser's INVITE when the call did not come up.
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
	if legB != nil && legB.InviteResponse != nil && legB.InviteResponse.StatusCode/100 == 2 {
		bye := c.byeTo(legB.InviteResponse.Contact(), legB.InviteRequest.Recipient)
		if err := legB.WriteBye(ctx, bye); err != nil {
			c.log.Debug("webrtc: BYE to phone", "error", err)
		}
	}
	if legB != nil {
		legB.Close()
	}
	if answered {
		if err := c.legA.WriteBye(ctx, c.byeTo(c.req.Contact(), c.req.From().Address)); err != nil {
			c.log.Debug("webrtc: BYE to browser", "error", err)
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
// (the dialog's route set leads through the node's link).
func (c *call) byeTo(contact *sip.ContactHeader, fallback sip.Uri) *sip.Request {
	target := fallback
	if contact != nil {
		target = contact.Address
	}
	bye := sip.NewRequest(sip.BYE, *target.Clone())
	bye.SetTransport("UDP")
	bye.Laddr = sip.Addr{IP: net.IPv4(127, 0, 0, 1), Port: c.a.port}
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
