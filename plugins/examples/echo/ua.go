package echo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/rtpmedia"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// agent is the echo's SIP user agent: a sipgo stack on 127.0.0.1 (UDP,
// and TCP on the same port when it is free), sipgo's dialog cache for the
// calls, and the calls' media.
type agent struct {
	log      *slog.Logger
	settings Settings
	link     sdk.Link
	stats    *Stats
	ports    *rtpmedia.Ports
	addr     string // host:port
	port     int

	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	client  *sipgo.Client
	dlgs    *sipgo.DialogServerCache
	contact sip.ContactHeader
	udp     *net.UDPConn
	tcp     *net.TCPListener
	serve   sync.WaitGroup // the listeners' goroutines
	hangup  sync.WaitGroup // BYEs the echo sends
	ringing sync.WaitGroup // calls ringing (answer-delay)
	done    chan struct{}  // closed by close: ringing calls give up

	mu     sync.Mutex
	calls  map[string]*call // by dialog id
	closed bool
}

// startAgent binds the listeners and serves them until close.
func startAgent(_ context.Context, st Settings, link sdk.Link, stats *Stats, log *slog.Logger) (*agent, error) {
	a := &agent{log: log, settings: st, link: link, stats: stats, calls: make(map[string]*call), done: make(chan struct{}),
		ports: &rtpmedia.Ports{IP: st.MediaIP, Min: st.PortMin, Max: st.PortMax}}
	var err error
	if a.udp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		return nil, fmt.Errorf("listen udp: %w", err)
	}
	a.port = a.udp.LocalAddr().(*net.UDPAddr).Port
	a.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(a.port))
	// TCP on the same port if it happens to be free: cheap, and the node
	// may prefer it for large messages. Without it, UDP only.
	a.tcp, _ = net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: a.port})

	if a.ua, err = sipgo.NewUA(sipgo.WithUserAgent("parley-echo"), sipgo.WithUserAgentHostname("127.0.0.1")); err != nil {
		a.closeListeners()
		return nil, fmt.Errorf("sipgo: %w", err)
	}
	if a.srv, err = sipgo.NewServer(a.ua, sipgo.WithServerLogger(log)); err == nil {
		a.client, err = sipgo.NewClient(a.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(a.port), sipgo.WithClientLogger(log))
	}
	if err != nil {
		a.ua.Close()
		a.closeListeners()
		return nil, fmt.Errorf("sipgo: %w", err)
	}
	a.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: st.User, Host: "127.0.0.1", Port: a.port}}
	a.dlgs = sipgo.NewDialogServerCache(a.client, a.contact)
	a.srv.OnInvite(a.onInvite)
	a.srv.OnAck(a.onAck)
	a.srv.OnBye(a.onBye)
	a.srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		a.respond(tx, req, 481, "Call/Transaction Does Not Exist")
	})
	a.srv.OnOptions(a.onOptions)
	a.srv.OnInfo(a.inDialogOK)
	a.serve.Add(1)
	go func() {
		defer a.serve.Done()
		_ = a.srv.ServeUDP(a.udp)
	}()
	if a.tcp != nil {
		a.serve.Add(1)
		go func() {
			defer a.serve.Done()
			_ = a.srv.ServeTCP(a.tcp)
		}()
	}
	return a, nil
}

// target is where the chain entry proxies the INVITEs it takes.
func (a *agent) target() string { return "sip:" + a.addr + ";transport=udp" }

func (a *agent) closeListeners() {
	a.udp.Close()
	if a.tcp != nil {
		a.tcp.Close()
	}
}

// respond answers outside a dialog session; failures are logged.
func (a *agent) respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		a.log.Debug("echo: respond failed", "code", code, "method", req.Method, "error", err)
	}
}

// reject answers an INVITE with a failure and counts it.
func (a *agent) reject(tx sip.ServerTransaction, req *sip.Request, code int, reason, warning string) {
	a.stats.Rejected.Add(1)
	var hdrs []sip.Header
	if warning != "" {
		hdrs = append(hdrs, sip.NewHeader("Warning", `399 echo "`+warning+`"`))
	}
	if code == 503 {
		hdrs = append(hdrs, sip.NewHeader("Retry-After", "5"))
	}
	a.respond(tx, req, code, reason, hdrs...)
}

// onInvite starts a call, or hands a re-INVITE to its call. An INVITE
// without SDP is a late offer: the 200 carries the echo's offer and the
// ACK the answer (call.ack).
func (a *agent) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		a.onReinvite(req, tx)
		return
	}
	a.respond(tx, req, 100, "Trying")
	var o *offer // nil: late offer
	if len(req.Body()) > 0 {
		var err error
		if o, err = parseOffer(req.Body()); err != nil {
			a.reject(tx, req, 488, "Not Acceptable Here", err.Error())
			return
		}
	}
	c, err := a.newCall(req, tx, o)
	switch {
	case errors.Is(err, errBusy):
		a.reject(tx, req, 486, "Busy Here", "max-calls reached")
		return
	case errors.Is(err, ErrNoPorts):
		a.reject(tx, req, 503, "Service Unavailable", "no free RTP port")
		return
	case err != nil:
		a.log.Warn("echo: call not started", "error", err)
		a.reject(tx, req, 500, "Server Internal Error", "")
		return
	}
	if a.settings.AnswerDelay > 0 && !c.ring(req, tx) {
		return
	}
	c.respond()
}

// onReinvite answers an offer inside a dialog (hold, resume, a new
// address); an unknown dialog gets 481.
func (a *agent) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	c, dlg := a.match(req)
	if c == nil {
		a.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if err := dlg.ReadRequest(req, tx); err != nil {
		a.respond(tx, req, 500, "Server Internal Error", sip.NewHeader("Retry-After", "1"))
		return
	}
	c.reoffer(req, tx)
}

// match finds the call of an in-dialog request.
func (a *agent) match(req *sip.Request) (*call, *sipgo.DialogServerSession) {
	dlg, err := a.dlgs.MatchDialogRequest(req)
	if err != nil {
		return nil, nil
	}
	a.mu.Lock()
	c := a.calls[dlg.ID]
	a.mu.Unlock()
	if c == nil {
		return nil, nil
	}
	return c, dlg
}

// onAck confirms a dialog (ACKs of failures never get here: the
// transaction layer takes them); on a late offer it carries the answer,
// read before the dialog is confirmed.
func (a *agent) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if c, _ := a.match(req); c != nil {
		c.ack(req)
	}
	if err := a.dlgs.ReadAck(req, tx); err != nil {
		a.log.Debug("echo: ACK outside a dialog", "call_id", callID(req), "error", err)
	}
}

// onBye ends a call; an unknown dialog gets 481.
func (a *agent) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c, dlg := a.match(req)
	if c == nil {
		a.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if err := dlg.ReadBye(req, tx); err != nil {
		a.respond(tx, req, 500, "Server Internal Error")
	}
	c.end("bye")
}

// Health headers of the answer to an OPTIONS (the health ping): what the
// echo holds right now, so that a monitor (or a test) sees from outside
// the process that ended calls released everything.
const (
	HeaderCalls      = "X-Echo-Calls"      // calls (dialogs) running
	HeaderSockets    = "X-Echo-Sockets"    // media sockets open (two per call)
	HeaderGoroutines = "X-Echo-Goroutines" // the echo's own goroutines (media readers, BYE senders)
	HeaderRuntime    = "X-Echo-Runtime-Goroutines"
	HeaderTimeouts   = "X-Echo-Timeouts" // calls ended by the RTP timeout since the start
)

// onOptions answers the health ping (an OPTIONS to the served address,
// proxied here by Handle, or sent to the user agent directly) with 200,
// the capabilities and the health headers.
func (a *agent) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	a.mu.Lock()
	calls := len(a.calls)
	a.mu.Unlock()
	a.respond(tx, req, 200, "OK",
		sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO"), sip.NewHeader("Accept", "application/sdp"),
		sip.NewHeader(HeaderCalls, strconv.Itoa(calls)),
		sip.NewHeader(HeaderSockets, strconv.FormatInt(a.stats.Sockets.Load(), 10)),
		sip.NewHeader(HeaderGoroutines, strconv.FormatInt(a.stats.Goroutines.Load(), 10)),
		sip.NewHeader(HeaderTimeouts, strconv.FormatUint(a.stats.Timeouts.Load(), 10)),
		// The whole process's: sipgo keeps a transaction's goroutine for
		// its timer (up to 32 s over UDP) after the call ended.
		sip.NewHeader(HeaderRuntime, strconv.Itoa(runtime.NumGoroutine())))
}

// inDialogOK answers a request that needs only its dialog to exist
// (INFO: DTMF the echo ignores).
func (a *agent) inDialogOK(req *sip.Request, tx sip.ServerTransaction) {
	if c, _ := a.match(req); c == nil {
		a.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	a.respond(tx, req, 200, "OK")
}

// close hangs up every call (BYE within ctx; a call still ringing gets
// 480 instead), then stops the stack.
func (a *agent) close(ctx context.Context) {
	a.mu.Lock()
	if !a.closed {
		close(a.done)
	}
	a.closed = true // no new calls, no new hangups
	calls := make([]*call, 0, len(a.calls))
	for _, c := range a.calls {
		if !c.ringing {
			calls = append(calls, c)
		}
	}
	a.mu.Unlock()
	var byes sync.WaitGroup
	for _, c := range calls {
		byes.Add(1)
		go func() {
			defer byes.Done()
			c.bye(ctx, "close")
		}()
	}
	byes.Wait()
	a.ringing.Wait()
	a.hangup.Wait()
	a.ua.Close()
	a.closeListeners()
	a.serve.Wait()
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}
