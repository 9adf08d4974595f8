package udpfast

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/proxy"
	"github.com/parley-rtc/parley/core/retrans"
	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/core/transport"
)

// The direct path. Over UDP a request other than INVITE, ACK and CANCEL
// needs little of sipgo's server transaction: it gets one final response
// (the registrar's, the presence agent's, or the one the proxy relays),
// and nobody CANCELs it. So the read loop takes it (what the stateless
// challenge did not answer: with credentials, in a dialog, or from a
// trusted listener), hands it to a worker that runs it through the request
// path as Handle would (Pipeline.ServeDirect), and the final response goes out from the listener's socket and
// into core/retrans like every UDP non-INVITE final response. What
// sipgo's transaction did besides is done here: a retransmission that
// arrives while the request is being served is absorbed (the in-flight
// set; the last provisional response, if any, is sent again, RFC 3261
// 17.2.2), and one that arrives later gets the recorded response
// (Intercept's resend). sipgo never hears of the sender, which does not
// matter: requests to a registered contact leave from the listener's
// socket all the same, since the proxy names the listener's address
// (Laddr) on every UDP request it sends. Kamailio's registrar answers
// statelessly (sl) the same way. It saves, per request, sipgo's
// transaction, its goroutine hand-off, the transaction store and sipgo's
// connection-pool entry for the sender.

// direct takes req, parsed on the read loop (Intercept), off it (see
// above): Taken, or Passed to leave it to sipgo.
func (f *Path) direct(l *transport.Listener, req *sip.Request, source string, dest *net.UDPAddr, w net.PacketConn) Fate {
	via := req.Via()
	if via == nil {
		return Passed // Handle answers 400
	}
	branch, _ := via.Params.Get("branch")
	if branch == "" {
		return Passed
	}
	key := retrans.KeyOf(string(req.Method), branch, source)
	if f.resendKey(key, dest, w) == Taken {
		return Taken // answered: a retransmission the quick look missed
	}
	tx := &DirectTx{f: f, key: key, conn: w, dest: dest, done: make(chan struct{})}
	if prev := f.inflight.add(key, tx); prev != nil {
		prev.retransmitted() // a retransmission of one being served
		return Taken
	}
	f.workers.run(func() { f.pipe.ServeDirect(l, req, source, tx) })
	return Taken
}

// CancelsDirect reports whether a CANCEL from source on listener in
// matches a request being served on the direct path (by branch and
// source, RFC 3261 9.1).
func (f *Path) CancelsDirect(in *transport.Listener, req *sip.Request, source string) bool {
	v := req.Via()
	if v == nil || in.Packet == nil {
		return false
	}
	b, _ := v.Params.Get("branch")
	return b != "" && f.inflight.cancels(b, source)
}

// directCandidate is a quick look at a raw datagram: a request whose
// method is neither INVITE, ACK nor CANCEL, the only ones Intercept
// parses.
func directCandidate(data []byte) bool {
	sp := bytes.IndexByte(data, ' ')
	if sp <= 0 || bytes.HasPrefix(data, []byte("SIP/")) {
		return false
	}
	switch string(data[:sp]) {
	case "INVITE", "ACK", "CANCEL":
		return false
	}
	return true
}

// inflight is the set of direct requests being served, by retransmission
// key (method, branch, source), with a count by branch and source alone,
// which is what a CANCEL for one of them matches (RFC 3261 9.1).
type inflight struct {
	mu    sync.Mutex
	set   map[string]*DirectTx
	sites map[string]int
}

func newInflight() *inflight {
	return &inflight{set: make(map[string]*DirectTx), sites: make(map[string]int)}
}

// site is key without its method: "\x00branch\x00source".
func site(key []byte) string {
	if i := bytes.IndexByte(key, 0); i >= 0 {
		return string(key[i:])
	}
	return string(key)
}

// add puts tx in the set under key, unless a transaction is already
// there: then it returns that one and adds nothing.
func (f *inflight) add(key []byte, tx *DirectTx) *DirectTx {
	f.mu.Lock()
	defer f.mu.Unlock()
	if prev, ok := f.set[string(key)]; ok {
		return prev
	}
	f.set[string(key)] = tx
	f.sites[site(key)]++
	return nil
}

func (f *inflight) remove(key []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.set[string(key)]; !ok {
		return
	}
	delete(f.set, string(key))
	s := site(key)
	if f.sites[s]--; f.sites[s] <= 0 {
		delete(f.sites, s)
	}
}

// cancels reports whether a CANCEL with branch from source matches a
// request being served on the direct path.
func (f *inflight) cancels(branch, source string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sites[string(retrans.KeyOf("", branch, source))] > 0
}

// DirectTx is the server transaction of a direct request: its final
// response is recorded for retransmissions and sent from the listener's
// socket; provisional responses are sent as they are. Unlike sipgo's, it
// does not end when the handler returns: a handler may keep it and
// answer later (the registrar's asynchronous write), then call
// Terminate.
type DirectTx struct {
	f     *Path
	key   []byte
	conn  net.PacketConn
	dest  *net.UDPAddr
	final atomic.Bool

	mu    sync.Mutex
	done  chan struct{} // closed by Terminate
	ended bool
	onEnd []sip.FnTxTerminate
	last  []byte // the last provisional response sent
}

var _ sip.ServerTransaction = (*DirectTx)(nil)

func (t *DirectTx) Respond(res *sip.Response) error {
	return t.send(res, res.StringWrite)
}

// RespondRelayed sends a response the proxy relays, without our top Via
// and without a copy (proxy.Relayer).
func (t *DirectTx) RespondRelayed(res *sip.Response) error {
	return t.send(res, func(w io.StringWriter) { siputil.WriteRelayed(w, res) })
}

var _ proxy.Relayer = (*DirectTx)(nil)

// send sends res as write serialises it.
func (t *DirectTx) send(res *sip.Response, write func(io.StringWriter)) error {
	if !res.IsProvisional() && !t.final.CompareAndSwap(false, true) {
		return sip.ErrTransactionTerminated
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	write(buf)
	if res.IsProvisional() {
		t.mu.Lock()
		t.last = append(t.last[:0], buf.Bytes()...)
		t.mu.Unlock()
	} else {
		// Record, then leave the in-flight set, then send: a
		// retransmission finds one or the other.
		t.f.retrans.Put(t.key, buf.Bytes())
		t.Terminate()
	}
	if _, err := t.conn.WriteTo(buf.Bytes(), t.dest); err != nil {
		return fmt.Errorf("udpfast: send %d: %w", res.StatusCode, err)
	}
	return nil
}

// retransmitted answers a retransmission of the request while it is
// served: with the last provisional response, if one was sent.
func (t *DirectTx) retransmitted() {
	t.mu.Lock()
	last := t.last
	if t.ended {
		last = nil
	}
	if last != nil {
		last = append([]byte(nil), last...)
	}
	t.mu.Unlock()
	if last != nil {
		_, _ = t.conn.WriteTo(last, t.dest)
	}
}

// Terminate ends the transaction: the key leaves the in-flight set (a
// retransmission is then answered from the record, or served anew if
// nothing was answered) and OnTerminate functions run.
func (t *DirectTx) Terminate() {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return
	}
	t.ended = true
	fns := t.onEnd
	t.onEnd = nil
	close(t.done)
	t.mu.Unlock()
	t.f.inflight.remove(t.key)
	for _, f := range fns {
		f(string(t.key), nil)
	}
}

func (t *DirectTx) OnTerminate(f sip.FnTxTerminate) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return false
	}
	t.onEnd = append(t.onEnd, f)
	return true
}

func (t *DirectTx) Done() <-chan struct{} { return t.done }

func (t *DirectTx) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return sip.ErrTransactionTerminated
	}
	return nil
}

// Acks: only INVITE has them, and INVITE never takes this path.
func (t *DirectTx) Acks() <-chan *sip.Request { return nil }

// OnCancel: CANCEL has no effect on a non-INVITE request (RFC 3261 9.2);
// the request path answers a CANCEL that matches one 200 (CancelsDirect).
func (t *DirectTx) OnCancel(sip.FnTxCancel) bool { return false }
