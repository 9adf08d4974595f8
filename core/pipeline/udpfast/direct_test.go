package udpfast

import (
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/retrans"
)

// recordConn is a PacketConn that keeps what is written to it.
type recordConn struct {
	net.PacketConn
	sent [][]byte
}

func (c *recordConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	c.sent = append(c.sent, append([]byte(nil), b...))
	return len(b), nil
}

// TestDirectTx: a direct request's key is in flight until its final
// response, which is recorded before the key leaves, sent once, and ends
// the transaction; a second final response is refused; a transaction
// ended without an answer frees its key too.
func TestDirectTx(t *testing.T) {
	f := &Path{retrans: retrans.New(time.Minute, nil), inflight: newInflight()}
	key := retrans.KeyOf("REGISTER", "z9hG4bK-1", "127.0.0.1:5070")
	conn := &recordConn{}
	tx := &DirectTx{f: f, key: key, conn: conn, dest: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5070}, done: make(chan struct{})}
	if f.inflight.add(key, tx) != nil {
		t.Fatal("first add refused")
	}
	if !f.inflight.cancels("z9hG4bK-1", "127.0.0.1:5070") || f.inflight.cancels("z9hG4bK-1", "127.0.0.1:5071") {
		t.Fatal("a CANCEL's match by branch and source is wrong")
	}
	again := &DirectTx{f: f, key: key, conn: conn, done: make(chan struct{})}
	if f.inflight.add(key, again) != tx {
		t.Fatal("a retransmission in flight was not absorbed")
	}
	tx.retransmitted() // nothing sent yet: nothing to repeat
	var ended []string
	if !tx.OnTerminate(func(k string, _ error) { ended = append(ended, k) }) {
		t.Fatal("OnTerminate refused before the end")
	}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Host: "localhost"})
	params := sip.NewParams()
	params.Add("branch", "z9hG4bK-1")
	req.AppendHeader(&sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1", Port: 5070, Params: params})
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.REGISTER})
	if err := tx.Respond(sip.NewResponseFromRequest(req, 100, "Trying", nil)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Err(); err != nil {
		t.Fatalf("ended by a provisional response: %v", err)
	}
	tx.retransmitted() // repeats the 100
	if len(conn.sent) != 2 || string(conn.sent[1]) != string(conn.sent[0]) {
		t.Fatalf("a retransmission while proceeding got %d datagrams", len(conn.sent))
	}
	conn.sent = conn.sent[:1]
	if err := tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Respond(sip.NewResponseFromRequest(req, 500, "Again", nil)); err == nil {
		t.Fatal("a second final response was accepted")
	}
	if len(conn.sent) != 2 {
		t.Fatalf("sent %d datagrams, want 2 (100 and 200)", len(conn.sent))
	}
	got, ok := f.retrans.Get(nil, key)
	if !ok || string(got) != string(conn.sent[1]) {
		t.Fatalf("recorded %q, want the 200 sent", got)
	}
	select {
	case <-tx.Done():
	default:
		t.Fatal("Done not closed after the final response")
	}
	if len(ended) != 1 || tx.OnTerminate(func(string, error) {}) {
		t.Fatalf("OnTerminate calls %v, or accepted after the end", ended)
	}
	if f.inflight.cancels("z9hG4bK-1", "127.0.0.1:5070") {
		t.Fatal("a CANCEL matches a request already answered")
	}
	if f.inflight.add(key, again) != nil {
		t.Fatal("the key stayed in flight after the final response")
	}
	f.inflight.remove(key)

	other := retrans.KeyOf("REGISTER", "z9hG4bK-2", "127.0.0.1:5070")
	silent := &DirectTx{f: f, key: other, conn: conn, done: make(chan struct{})}
	f.inflight.add(other, silent)
	silent.Terminate()
	silent.Terminate()
	if f.inflight.add(other, silent) != nil {
		t.Fatal("a transaction ended without an answer kept its key")
	}
}
