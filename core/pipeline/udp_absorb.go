package pipeline

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/retrans"
)

// Retransmissions of UDP requests other than INVITE and ACK are answered
// from core/retrans, not from sipgo's transaction: once the final response
// is sent, it is recorded there and the sipgo transaction ends, instead of
// living on for timer J (32 s) with its request, response and timers. The
// read loop answers retransmissions from the record (Intercept); Handle
// looks too, for one that passed the read loop just before the record was
// made or whose Via the quick look could not read.

// absorbTx is a UDP non-INVITE server transaction whose final response is
// recorded for retransmissions and sent from here (one serialisation, no
// sipgo state machine); the sipgo transaction then ends at once.
// Provisional responses go through sipgo as before.
type absorbTx struct {
	sip.ServerTransaction
	p    *Pipeline
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
	t.p.retrans.Put(t.key, buf.Bytes())
	t.ServerTransaction.Terminate()
	if _, err := t.conn.WriteTo(buf.Bytes(), t.dest); err != nil {
		return fmt.Errorf("pipeline: send %d: %w", res.StatusCode, err)
	}
	return nil
}

// absorbUDP is Handle's side of the fast path: a retransmission whose
// final response is recorded is answered from the record (true: c is
// done); otherwise a request over UDP whose transaction may end with its
// final response gets a transaction that records it (absorbTx).
func (p *Pipeline) absorbUDP(c *call) bool {
	key := absorbKey(c)
	if key == nil {
		return false
	}
	if p.absorbed(c, key) {
		return true
	}
	if ap, err := netip.ParseAddrPort(c.source); err == nil {
		c.tx = &absorbTx{ServerTransaction: c.tx, p: p, key: key, conn: c.in.Packet, dest: net.UDPAddrFromAddrPort(ap)}
	}
	return false
}

// absorbKey returns the retransmission key of a request over UDP whose
// transaction may end with its final response; nil for others.
func absorbKey(c *call) []byte {
	req := c.req
	if c.in.Packet == nil || !c.onSocket || req.IsInvite() || req.IsAck() {
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
	return retrans.KeyOf(string(req.Method), branch, c.source)
}

// absorbed answers a retransmission Handle received whose final response
// is recorded; true means it was one (and its new transaction is ended).
func (p *Pipeline) absorbed(c *call, key []byte) bool {
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	out, ok := p.retrans.Get(buf.AvailableBuffer(), key)
	if !ok {
		return false
	}
	if ap, err := netip.ParseAddrPort(c.source); err == nil {
		if _, err := c.in.Packet.WriteTo(out, net.UDPAddrFromAddrPort(ap)); err != nil {
			p.log.Debug("retransmitted response not sent", "to", c.source, "error", err)
		}
	}
	c.tx.Terminate()
	return true
}

// resend answers a datagram on the read loop when it retransmits a request
// whose final response is recorded.
func (p *Pipeline) resend(data []byte, from net.Addr, w net.PacketConn) bool {
	var keyBuf [256]byte
	key, ok := retrans.RequestKey(keyBuf[:0], data, from.String())
	if !ok {
		return false
	}
	return p.resendKey(key, from, w)
}

// resendKey sends the recorded final response of the request with key,
// if there is one.
func (p *Pipeline) resendKey(key []byte, from net.Addr, w net.PacketConn) bool {
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	out, ok := p.retrans.Get(buf.AvailableBuffer(), key)
	if !ok {
		return false
	}
	if _, err := w.WriteTo(out, from); err != nil {
		p.log.Debug("retransmitted response not sent", "to", from.String(), "error", err)
	}
	return true
}
