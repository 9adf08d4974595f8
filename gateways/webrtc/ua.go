package webrtc

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// HeaderTarget carries the original Request-URI of an INVITE the chain
// entry proxies to the user agent (whose Request-URI the node replaces).
const HeaderTarget = "X-Parley-WebRTC-Target"

// agent is the gateway's SIP user agent on 127.0.0.1 (UDP): the
// browser's leg arrives here proxied by the node (a server dialog), the
// phone's leg leaves from here to the node's link (a client dialog).
//
// A browser's dialog (either way) has a Contact with transport=tcp: its
// re-INVITEs carry WebRTC descriptions over the UDP size limit. A
// phone's dialog has the UDP one.
type agent struct {
	log   *slog.Logger
	cfg   Config
	link  sdk.Link
	env   *mediaEnv
	stats *Stats
	addr  string
	port  int

	ua         *sipgo.UserAgent
	srv        *sipgo.Server
	client     *sipgo.Client
	contact    sip.ContactHeader        // UDP: the phone's dialogs
	contactTCP sip.ContactHeader        // TCP: the browser's dialogs
	browserIn  *sipgo.DialogServerCache // a browser calls (leg A)
	phoneIn    *sipgo.DialogServerCache // a phone calls (leg A)
	phoneOut   *sipgo.DialogClientCache // the gateway calls a phone (leg B)
	browserOut *sipgo.DialogClientCache // the gateway calls a browser (leg B)
	udp        *net.UDPConn
	tcp        *net.TCPListener
	serve      sync.WaitGroup
	calls      sync.WaitGroup // every call's goroutine

	mu     sync.Mutex
	active map[*call]struct{}
	closed bool
}

// startAgent binds the SIP socket and the media environment.
func startAgent(cfg Config, link sdk.Link, stats *Stats, log *slog.Logger) (*agent, error) {
	if stats == nil {
		stats = &Stats{}
	}
	env, err := newMediaEnv(cfg, stats)
	if err != nil {
		return nil, err
	}
	a := &agent{log: log, cfg: cfg, link: link, env: env, stats: stats, active: make(map[*call]struct{})}
	if a.udp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		env.close()
		return nil, fmt.Errorf("webrtc: listen udp: %w", err)
	}
	a.port = a.udp.LocalAddr().(*net.UDPAddr).Port
	// TCP on the same port: a browser's offer (2-4 KB with its
	// candidates) is over the UDP MTU limit (RFC 3261 18.1.1).
	if a.tcp, err = net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: a.port}); err != nil {
		a.udp.Close()
		env.close()
		return nil, fmt.Errorf("webrtc: listen tcp: %w", err)
	}
	a.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(a.port))
	if a.ua, err = sipgo.NewUA(sipgo.WithUserAgent("parley-webrtc"), sipgo.WithUserAgentHostname("127.0.0.1")); err == nil {
		if a.srv, err = sipgo.NewServer(a.ua, sipgo.WithServerLogger(log)); err == nil {
			a.client, err = sipgo.NewClient(a.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(a.port), sipgo.WithClientLogger(log))
		}
	}
	if err != nil {
		if a.ua != nil {
			a.ua.Close()
		}
		a.udp.Close()
		a.tcp.Close()
		env.close()
		return nil, fmt.Errorf("webrtc: sipgo: %w", err)
	}
	user, _, _ := cutAt(cfg.Identity)
	a.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: a.port}}
	a.contactTCP = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: a.port,
		UriParams: sip.HeaderParams{{K: "transport", V: "tcp"}}}}
	a.browserIn = sipgo.NewDialogServerCache(a.client, a.contactTCP)
	a.phoneIn = sipgo.NewDialogServerCache(a.client, a.contact)
	a.phoneOut = sipgo.NewDialogClientCache(a.client, a.contact)
	a.browserOut = sipgo.NewDialogClientCache(a.client, a.contactTCP)
	a.srv.OnInvite(a.onInvite)
	a.srv.OnAck(a.onAck)
	a.srv.OnBye(a.onBye)
	a.srv.OnInfo(a.onInfo)
	a.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) { a.respond(tx, req, 200, "OK", a.healthHeaders()...) })
	a.serve.Add(2)
	go func() {
		defer a.serve.Done()
		_ = a.srv.ServeUDP(a.udp)
	}()
	go func() {
		defer a.serve.Done()
		_ = a.srv.ServeTCP(a.tcp)
	}()
	return a, nil
}

// target is where the chain entry proxies the INVITEs it takes: over
// TCP, since a WebRTC offer does not fit a UDP datagram's limit.
func (a *agent) target() string { return "sip:" + a.addr + ";transport=tcp" }

func (a *agent) respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		a.log.Debug("webrtc: respond failed", "code", code, "error", err)
	}
}

// onInvite starts a call, or hands a re-INVITE to its call.
func (a *agent) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		a.onReinvite(req, tx)
		return
	}
	a.respond(tx, req, 100, "Trying")
	kind, err := ClassifyOffer(req.Body())
	d := Decide(kind, err, TargetPhone)
	switch {
	case d.Action == RejectCall:
		a.respond(tx, req, d.Code, d.Reason)
		return
	case kind == OfferPlain:
		d.Action = ToBrowser // the chain entry sends a plain offer here only for a browser
	case d.Action != ToPhone:
		a.respond(tx, req, 488, "Not Acceptable Here (the gateway takes WebRTC and plain RTP offers only)")
		return
	}
	target, err := callTarget(req)
	if err != nil {
		a.respond(tx, req, 400, "Bad Request ("+reason(err)+")")
		return
	}
	c, code, why := a.newCall(req, tx, target, d.Action == ToBrowser)
	if c == nil {
		a.respond(tx, req, code, why)
		return
	}
	c.run()
}

// callTarget is the other leg's Request-URI: HeaderTarget, else To.
func callTarget(req *sip.Request) (sip.Uri, error) {
	var u sip.Uri
	if h := req.GetHeader(HeaderTarget); h != nil {
		err := sip.ParseUri(h.Value(), &u)
		return u, err
	}
	if to := req.To(); to != nil {
		return *to.Address.Clone(), nil
	}
	return u, errors.New("no target")
}

// dialogOf finds the call and the leg (its sipgo dialog) of an
// in-dialog request; nil when none.
func (a *agent) dialogOf(req *sip.Request) (*call, *sipgo.Dialog, *sipgo.DialogServerSession, *sipgo.DialogClientSession) {
	var id string
	var srv *sipgo.DialogServerSession
	var cli *sipgo.DialogClientSession
	var dlg *sipgo.Dialog
	for _, cache := range []*sipgo.DialogServerCache{a.browserIn, a.phoneIn} {
		if d, err := cache.MatchDialogRequest(req); err == nil {
			id, srv, dlg = d.ID, d, &d.Dialog
			break
		}
	}
	if srv == nil {
		for _, cache := range []*sipgo.DialogClientCache{a.phoneOut, a.browserOut} {
			if d, err := cache.MatchRequestDialog(req); err == nil {
				id, cli, dlg = d.ID, d, &d.Dialog
				break
			}
		}
	}
	if dlg == nil {
		return nil, nil, nil, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for c := range a.active {
		if c.hasDialog(id) {
			return c, dlg, srv, cli
		}
	}
	return nil, nil, nil, nil
}

// onReinvite answers an offer inside a dialog (RFC 3264 section 8):
// hold, resume, a new address. An unknown dialog gets 481.
func (a *agent) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	c, dlg, _, _ := a.dialogOf(req)
	if c == nil {
		a.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if err := dlg.ReadRequest(req, tx); err != nil {
		a.respond(tx, req, 500, "Server Internal Error", sip.NewHeader("Retry-After", "1"))
		return
	}
	c.reinvite(req, tx)
}

// onInfo hands an INFO to its call (DTMF); an unknown dialog gets 481.
func (a *agent) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	c, dlg, srv, _ := a.dialogOf(req)
	if c == nil {
		a.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if err := dlg.ReadRequest(req, tx); err != nil {
		a.respond(tx, req, 500, "Server Internal Error", sip.NewHeader("Retry-After", "1"))
		return
	}
	c.info(req, tx, srv != nil)
}

// onAck confirms a dialog of a caller (ACKs to the gateway's answers of
// re-INVITEs need nothing).
func (a *agent) onAck(req *sip.Request, tx sip.ServerTransaction) {
	for _, cache := range []*sipgo.DialogServerCache{a.browserIn, a.phoneIn} {
		if cache.ReadAck(req, tx) == nil {
			return
		}
	}
}

// onBye ends the call of either leg.
func (a *agent) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c, _, srv, cli := a.dialogOf(req)
	switch {
	case c == nil:
		a.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	case srv != nil:
		_ = srv.ReadBye(req, tx)
	default:
		_ = cli.ReadBye(req, tx)
	}
	c.hangup("bye from " + c.sideOf(srv != nil))
}

// calls is how many calls run.
func (a *agent) callCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.active)
}

// close hangs up every call, then stops the stack and the media.
func (a *agent) close() {
	a.mu.Lock()
	a.closed = true
	calls := make([]*call, 0, len(a.active))
	for c := range a.active {
		calls = append(calls, c)
	}
	a.mu.Unlock()
	for _, c := range calls {
		c.hangup("gateway closing")
	}
	a.calls.Wait()
	a.ua.Close()
	a.udp.Close()
	a.tcp.Close()
	a.serve.Wait()
	a.env.close()
}

func cutAt(aor string) (user, domain string, ok bool) {
	for i := len(aor) - 1; i >= 0; i-- {
		if aor[i] == '@' {
			return aor[:i], aor[i+1:], true
		}
	}
	return aor, "", false
}
