package echo

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// errBusy: max-calls calls are running (486 to the caller).
var errBusy = errors.New("echo: max-calls reached")

// errClosed: the user agent is closing.
var errClosed = errors.New("echo: closing")

// byeTimeout bounds a BYE the echo sends.
const byeTimeout = 10 * time.Second

// call is one echo call: sipgo's dialog session and the media. end
// releases everything, once, whichever way the call ends.
type call struct {
	a       *agent
	log     *slog.Logger
	dlg     *sipgo.DialogServerSession
	media   *media
	started time.Time

	mu     sync.Mutex // the offer/answer state
	offer  *offer     // the far end's description (from its offer, or its answer to ours)
	org    origin
	answer []byte // the echo's current description: its answer, or its own offer on a late offer
	// awaitAnswer: a late offer (INVITE without SDP) whose 200 carried
	// the echo's offer; the answer must come in the ACK.
	awaitAnswer bool
	failed      bool // the ACK's answer was missing or unusable: BYE on its way

	ringing bool // answer-delay running, no 200 yet (guarded by a.mu)

	endOnce sync.Once
}

// noRemote is the far end of a late offer until its answer arrives: no
// address (so nothing is echoed), inactive (so no RTP timeout).
func noRemote() *offer {
	zero := &net.UDPAddr{IP: net.IPv4zero}
	return &offer{remote: zero, rtcp: zero, dir: dirInactive}
}

// newCall creates the dialog and binds the media for an initial INVITE;
// o nil is a late offer: the 200 carries the echo's offer.
func (a *agent) newCall(req *sip.Request, tx sip.ServerTransaction, o *offer) (*call, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, errClosed
	}
	if len(a.calls) >= a.settings.MaxCalls {
		return nil, errBusy
	}
	dlg, err := a.dlgs.ReadInvite(req, tx)
	if err != nil {
		return nil, err
	}
	c := &call{a: a, dlg: dlg, offer: o, started: time.Now(), org: origin{id: rand.Uint64() >> 1, version: 1},
		log: a.log.With("call_id", callID(req)), awaitAnswer: o == nil}
	if o == nil {
		c.offer = noRemote()
	}
	if c.media, err = newMedia(a.ports, c.offer, a.settings, a.stats, c.log, c.timedOut); err != nil {
		dlg.Close()
		return nil, err
	}
	if o == nil {
		c.answer, err = buildOffer(a.settings.MediaIP, c.media.port(), c.org)
	} else {
		c.answer, err = buildAnswer(o, a.settings.MediaIP, c.media.port(), c.org)
	}
	if err != nil {
		c.media.close()
		dlg.Close()
		return nil, err
	}
	if a.settings.AnswerDelay > 0 {
		c.ringing = true
		a.ringing.Add(1) // close waits for ring to finish
	}
	a.calls[dlg.ID] = c
	a.stats.Active.Add(1)
	dlg.OnState(func(s sip.DialogState) {
		if s == sip.DialogStateEnded {
			c.end("dialog ended")
		}
	})
	return c, nil
}

// ring sends 180 and lets the call ring for answer-delay; it reports
// whether to answer. A CANCEL meanwhile (sipgo answers it 200 and the
// INVITE 487), the transaction's end or the agent closing (480) end the
// call instead.
func (c *call) ring(req *sip.Request, tx sip.ServerTransaction) bool {
	a := c.a
	defer a.ringing.Done()
	cancelled := make(chan struct{})
	var once sync.Once
	if !tx.OnCancel(func(*sip.Request) { once.Do(func() { close(cancelled) }) }) {
		once.Do(func() { close(cancelled) }) // cancelled (or ended) already
	}
	a.respond(tx, req, 180, "Ringing", sip.HeaderClone(&a.contact))
	t := time.NewTimer(a.settings.AnswerDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-cancelled:
		a.stats.Cancelled.Add(1)
		c.end("cancelled")
		return false
	case <-tx.Done():
		c.end("INVITE transaction ended while ringing")
		return false
	case <-a.done:
	}
	a.mu.Lock()
	closing := a.closed
	if !closing {
		c.ringing = false
	}
	a.mu.Unlock()
	if closing {
		a.respond(tx, req, 480, "Temporarily Unavailable")
		c.end("closing while ringing")
		return false
	}
	return true
}

// respond sends the 200 with the answer (or, on a late offer, the echo's
// offer) and waits for the ACK (sipgo retransmits the 200 meanwhile); a
// failure ends the call. A late offer whose ACK never came is ended with
// BYE (RFC 3261 section 13.3.1.4).
func (c *call) respond() {
	c.mu.Lock()
	answer := c.answer
	c.mu.Unlock()
	if err := c.dlg.RespondSDP(answer); err != nil {
		c.log.Info("echo: call not established", "error", err)
		c.end("not established")
		return
	}
	c.mu.Lock()
	noACK, failed, remote := c.awaitAnswer, c.failed, c.offer.remote.String()
	c.awaitAnswer = false
	c.mu.Unlock()
	switch {
	case noACK:
		c.a.stats.NoAnswer.Add(1)
		c.log.Info("echo: no ACK with an answer to the echo's offer, hanging up")
		c.hangup("no answer")
	case !failed:
		c.a.stats.Calls.Add(1)
		c.log.Info("echo call established", "media", c.media.String(), "remote", remote)
	}
}

// ack reads the answer of a late offer from the ACK (RFC 3264 section
// 5: the 200 carried the echo's offer). An ACK without SDP, or with an
// answer the echo cannot use, ends the call with BYE; ACKs of other
// calls, and retransmissions, change nothing.
func (c *call) ack(req *sip.Request) {
	c.mu.Lock()
	if !c.awaitAnswer {
		c.mu.Unlock()
		return
	}
	c.awaitAnswer = false
	ans, err := parseAnswer(req.Body())
	if err == nil {
		c.offer = ans
		c.media.update(ans)
	} else {
		c.failed = true
	}
	c.mu.Unlock()
	if err != nil {
		c.a.stats.NoAnswer.Add(1)
		c.log.Info("echo: late offer not answered usably, hanging up", "error", err)
		c.hangup("bad answer")
		return
	}
	c.log.Info("echo: answer to the echo's offer", "direction", ans.dir, "echoing", ans.echoing())
}

// reoffer answers an offer inside the dialog (RFC 3264 section 8): the
// same port, the new direction and destination. An unacceptable offer
// gets 488 and changes nothing; a re-INVITE without a body gets the
// current description again.
func (c *call) reoffer(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	if body := req.Body(); len(body) > 0 {
		o, err := parseOffer(body)
		if err != nil {
			c.mu.Unlock()
			c.a.respond(tx, req, 488, "Not Acceptable Here", sip.NewHeader("Warning", `399 echo "`+err.Error()+`"`))
			return
		}
		org := origin{id: c.org.id, version: c.org.version + 1}
		answer, err := buildAnswer(o, c.a.settings.MediaIP, c.media.port(), org)
		if err != nil {
			c.mu.Unlock()
			c.a.respond(tx, req, 500, "Server Internal Error")
			return
		}
		c.media.update(o)
		c.offer, c.org, c.answer = o, org, answer
		c.log.Info("echo call updated", "direction", o.dir, "echoing", o.echoing())
	}
	answer := c.answer
	c.mu.Unlock()
	res := sip.NewSDPResponseFromRequest(req, answer)
	res.AppendHeader(sip.HeaderClone(&c.a.contact))
	if err := tx.Respond(res); err != nil {
		c.log.Debug("echo: re-INVITE answer failed", "error", err)
	}
}

// timedOut is the media's RTP timeout: the echo hangs up.
func (c *call) timedOut() {
	c.log.Info("echo: no RTP, hanging up", "timeout", c.a.settings.RTPTimeout)
	c.hangup("rtp-timeout")
}

// hangup sends BYE in the background (tracked, so that close waits for
// it); when the agent is closing, close sends the BYEs itself.
func (c *call) hangup(reason string) {
	a := c.a
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.hangup.Add(1)
	a.stats.Goroutines.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.hangup.Done()
		defer a.stats.Goroutines.Add(-1)
		c.bye(context.Background(), reason)
	}()
}

// bye sends BYE within the dialog (through its route set, so through the
// node, with the link token), then ends the call whatever the answer.
func (c *call) bye(ctx context.Context, reason string) {
	defer c.end(reason)
	ctx, cancel := context.WithTimeout(ctx, byeTimeout)
	defer cancel()
	inv := c.dlg.InviteRequest
	target := inv.From().Address
	if ct := inv.Contact(); ct != nil {
		target = ct.Address
	}
	bye := sip.NewRequest(sip.BYE, *target.Clone())
	bye.SetTransport(inv.Transport())
	if tok := c.a.link.Token; tok != "" {
		bye.AppendHeader(sip.NewHeader(sdk.LinkHeader, tok))
	}
	if strings.EqualFold(inv.Transport(), "udp") {
		// Send from the listening socket, so that the answer (and the
		// node's view of where we are) is our SIP port.
		bye.Laddr = sip.Addr{IP: net.IPv4(127, 0, 0, 1), Port: c.a.port}
	}
	if err := c.dlg.WriteBye(ctx, bye); err != nil {
		c.log.Info("echo: BYE not answered 200", "reason", reason, "error", err)
	}
}

// end releases the call's media, dialog and slot, once.
func (c *call) end(reason string) {
	c.endOnce.Do(func() {
		c.media.close()
		c.a.mu.Lock()
		delete(c.a.calls, c.dlg.ID)
		c.a.mu.Unlock()
		c.dlg.Close()
		c.a.stats.Active.Add(-1)
		c.log.Info("echo call ended", "reason", reason, "duration", time.Since(c.started).Round(time.Millisecond))
	})
}
