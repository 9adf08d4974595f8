package xmpp

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// subscriber is what XMPP -> SIP subscriptions send SUBSCRIBEs with: the
// gateway's own SIP user agent on the node's SIP link (sipUA), a fake
// in unit tests.
type subscriber interface {
	// Do sends req to the node's link and returns its final response.
	Do(ctx context.Context, req *sip.Request) (*sip.Response, error)
}

// notifyIn is a NOTIFY the node's presence agent sent within one of the
// gateway's subscriptions, as the presence worker reads it.
type notifyIn struct {
	CallID  string
	CSeq    uint32
	State   string // active, pending, terminated (RFC 6665 Subscription-State)
	Reason  string // with terminated: rejected, timeout, noresource, ...
	Expires int    // seconds left, -1 when not given
	Body    []byte
}

// sipUA is the gateway's SIP user agent on the node's SIP link (the
// plugin's "own SIP stack", plugins/README.md): a sipgo server and
// client on one UDP port of 127.0.0.1. SUBSCRIBEs go to the link address
// with the instance's credential (sdk.LinkHeader) from that port, so the
// presence agent sends its NOTIFYs back to it (the subscription's
// source); the NOTIFYs are answered here and handed to onNotify.
type sipUA struct {
	log    *slog.Logger
	link   sdk.Link
	udp    *net.UDPConn
	port   int
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	serve  sync.WaitGroup
	// onNotify takes a NOTIFY; false: no such subscription (481).
	onNotify func(notifyIn) bool
}

// startSIPUA binds 127.0.0.1:0 and serves NOTIFYs until Close.
func startSIPUA(link sdk.Link, log *slog.Logger, onNotify func(notifyIn) bool) (*sipUA, error) {
	u := &sipUA{log: log, link: link, onNotify: onNotify}
	var err error
	if u.udp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		return nil, fmt.Errorf("xmpp: sip user agent: %w", err)
	}
	u.port = u.udp.LocalAddr().(*net.UDPAddr).Port
	if u.ua, err = sipgo.NewUA(sipgo.WithUserAgent("parley-xmpp"), sipgo.WithUserAgentHostname("127.0.0.1")); err != nil {
		u.udp.Close()
		return nil, fmt.Errorf("xmpp: sip user agent: %w", err)
	}
	if u.srv, err = sipgo.NewServer(u.ua, sipgo.WithServerLogger(log)); err == nil {
		u.client, err = sipgo.NewClient(u.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(u.port), sipgo.WithClientLogger(log))
	}
	if err != nil {
		u.ua.Close()
		u.udp.Close()
		return nil, fmt.Errorf("xmpp: sip user agent: %w", err)
	}
	u.srv.OnNotify(u.notify)
	u.serve.Add(1)
	go func() {
		defer u.serve.Done()
		_ = u.srv.ServeUDP(u.udp)
	}()
	return u, nil
}

// contact is the user agent's address, the Contact of its SUBSCRIBEs.
func (u *sipUA) contact() sip.Uri {
	p := sip.NewParams()
	p.Add("transport", "udp")
	return sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: u.port, UriParams: p}
}

// Do sends req to the node's link over UDP from the user agent's port,
// with the credential and the Contact, and returns the final response.
func (u *sipUA) Do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	if u.link.Address == "" {
		return nil, fmt.Errorf("xmpp: the node offers no SIP link")
	}
	req.SetDestination(u.link.Address)
	req.SetTransport("UDP")
	req.Laddr = sip.Addr{IP: net.IPv4(127, 0, 0, 1), Port: u.port}
	req.RemoveHeader(sdk.LinkHeader)
	req.AppendHeader(sip.NewHeader(sdk.LinkHeader, u.link.Token))
	if req.Contact() == nil {
		req.AppendHeader(&sip.ContactHeader{Address: u.contact()})
	}
	res, err := u.client.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("xmpp: %s to %s: %w", req.Method, req.Recipient.String(), err)
	}
	return res, nil
}

// notify answers a NOTIFY (200, or 481 for a subscription the gateway
// does not hold) and hands it on.
func (u *sipUA) notify(req *sip.Request, tx sip.ServerTransaction) {
	n := notifyIn{Expires: -1, Body: append([]byte(nil), req.Body()...)}
	if cid := req.CallID(); cid != nil {
		n.CallID = string(*cid)
	}
	if cs := req.CSeq(); cs != nil {
		n.CSeq = cs.SeqNo
	}
	if h := req.GetHeader("Subscription-State"); h != nil {
		n.State, n.Reason, n.Expires = parseSubState(h.Value())
	}
	code, reason := 200, "OK"
	if ev := req.GetHeader("Event"); ev == nil || !strings.EqualFold(strings.TrimSpace(strings.SplitN(ev.Value(), ";", 2)[0]), "presence") {
		code, reason = 489, "Bad Event"
	} else if n.CallID == "" || n.State == "" || !u.onNotify(n) {
		code, reason = 481, "Subscription Does Not Exist"
	}
	if err := tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil)); err != nil {
		u.log.Debug("notify not answered", "code", code, "err", err)
	}
}

// parseSubState reads a Subscription-State value (RFC 6665 section 8.2.3).
func parseSubState(v string) (state, reason string, expires int) {
	expires = -1
	parts := strings.Split(v, ";")
	state = strings.ToLower(strings.TrimSpace(parts[0]))
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "reason":
			reason = strings.ToLower(strings.TrimSpace(val))
		case "expires":
			if n, err := strconv.Atoi(strings.TrimSpace(val)); err == nil && n >= 0 {
				expires = n
			}
		}
	}
	return state, reason, expires
}

// Close stops the user agent and waits for its server.
func (u *sipUA) Close() {
	u.ua.Close()
	u.udp.Close()
	u.serve.Wait()
}
