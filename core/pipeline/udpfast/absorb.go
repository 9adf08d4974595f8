package udpfast

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/retrans"
	"github.com/parley-rtc/parley/core/transport"
)

// Retransmissions of UDP requests other than INVITE and ACK are answered
// from core/retrans, not from sipgo's transaction: once the final response
// is sent, it is recorded there and the sipgo transaction ends, instead of
// living on for timer J (32 s) with its request, response and timers. The
// read loop answers retransmissions from the record (Intercept); Handle
// looks too (Absorb), for one that passed the read loop just before the
// record was made or whose Via the quick look could not read.

// absorbTx is a UDP non-INVITE server transaction whose final response is
// recorded for retransmissions and sent from here (one serialisation, no
// sipgo state machine); the sipgo transaction then ends at once.
// Provisional responses go through sipgo as before.
type absorbTx struct {
	sip.ServerTransaction
	f    *Path
	key  []byte
	conn net.PacketConn // the listener's socket
	dest *net.UDPAddr   // the request's source
	done atomic.Bool    // the final response went out
}

func (t *absorbTx) Respond(res *sip.Response) error {
	if res.IsProvisional() {
		return t.ServerTransaction.Respond(res)
	}
	if !t.done.CompareAndSwap(false, true) {
		return sip.ErrTransactionTerminated
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	res.StringWrite(buf)
	// Record, end the sipgo transaction, then send: whatever retransmission
	// the client sends after seeing the response finds the record (sipgo's
	// transaction, never told of the response, would swallow it).
	t.f.retrans.Put(t.key, buf.Bytes())
	t.ServerTransaction.Terminate()
	if _, err := t.conn.WriteTo(buf.Bytes(), t.dest); err != nil {
		return fmt.Errorf("udpfast: send %d: %w", res.StatusCode, err)
	}
	return nil
}

// Absorb is Handle's side of the fast path, for req from source on
// listener in (onSocket: it arrived on the listener's own socket) with
// sipgo's transaction tx. A retransmission whose final response is
// recorded is answered from the record and tx ended: Taken. Otherwise
// (Passed) the transaction to serve req on comes back: for a request
// over UDP whose transaction may end with its final response, tx wrapped
// so that response is recorded and sent from here; for others, tx.
func (f *Path) Absorb(in *transport.Listener, onSocket bool, req *sip.Request, source string, tx sip.ServerTransaction) (sip.ServerTransaction, Fate) {
	key := absorbKey(in, onSocket, req, source)
	if key == nil {
		return tx, Passed
	}
	if f.absorbed(in, source, tx, key) == Taken {
		return tx, Taken
	}
	if ap, err := netip.ParseAddrPort(source); err == nil {
		tx = &absorbTx{ServerTransaction: tx, f: f, key: key, conn: in.Packet, dest: net.UDPAddrFromAddrPort(ap)}
	}
	return tx, Passed
}

// absorbKey returns the retransmission key of a request over UDP whose
// transaction may end with its final response; nil for others.
func absorbKey(in *transport.Listener, onSocket bool, req *sip.Request, source string) []byte {
	if in.Packet == nil || !onSocket || req.IsInvite() || req.IsAck() {
		return nil // (responses to others go out where the request came in)
	}
	via := req.Via()
	if via == nil {
		return nil
	}
	branch, _ := via.Params.Get("branch")
	if branch == "" {
		return nil
	}
	return retrans.KeyOf(string(req.Method), branch, source)
}

// absorbed answers a retransmission Handle received whose final response
// is recorded, and ends its new transaction tx (Taken); Passed when there
// is no record.
func (f *Path) absorbed(in *transport.Listener, source string, tx sip.ServerTransaction, key []byte) Fate {
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	out, ok := f.retrans.Get(buf.AvailableBuffer(), key)
	if !ok {
		return Passed
	}
	if ap, err := netip.ParseAddrPort(source); err == nil {
		if _, err := in.Packet.WriteTo(out, net.UDPAddrFromAddrPort(ap)); err != nil {
			f.log.Debug("retransmitted response not sent", "to", source, "error", err)
		}
	}
	tx.Terminate()
	return Taken
}

// resend answers a datagram on the read loop that retransmits a request
// whose final response is recorded (Taken).
func (f *Path) resend(data []byte, from net.Addr, w net.PacketConn) Fate {
	var keyBuf [256]byte
	key, ok := retrans.RequestKey(keyBuf[:0], data, from.String())
	if !ok {
		return Passed
	}
	return f.resendKey(key, from, w)
}

// resendKey sends the recorded final response of the request with key,
// if there is one (Taken).
func (f *Path) resendKey(key []byte, from net.Addr, w net.PacketConn) Fate {
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	out, ok := f.retrans.Get(buf.AvailableBuffer(), key)
	if !ok {
		return Passed
	}
	if _, err := w.WriteTo(out, from); err != nil {
		f.log.Debug("retransmitted response not sent", "to", from.String(), "error", err)
	}
	return Taken
}
