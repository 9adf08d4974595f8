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
	offer  *offer
	org    origin
	answer []byte

	endOnce sync.Once
}

// newCall creates the dialog and binds the media for an initial INVITE.
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
		log: a.log.With("call_id", callID(req))}
	if c.media, err = newMedia(a.ports, o, a.settings, a.stats, c.log, c.timedOut); err != nil {
		dlg.Close()
		return nil, err
	}
	if c.answer, err = buildAnswer(o, a.settings.MediaIP, c.media.port(), c.org); err != nil {
		c.media.close()
		dlg.Close()
		return nil, err
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

// respond sends the 200 with the answer and waits for the ACK (sipgo
// retransmits the 200 meanwhile); a CANCEL or a failure ends the call.
func (c *call) respond() {
	c.mu.Lock()
	answer, remote := c.answer, c.offer.remote.String()
	c.mu.Unlock()
	if err := c.dlg.RespondSDP(answer); err != nil {
		c.log.Info("echo: call not established", "error", err)
		c.end("not established")
		return
	}
	c.a.stats.Calls.Add(1)
	c.log.Info("echo call established", "media", c.media.String(), "remote", remote)
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
