package udpfast

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/retrans"
	"github.com/parley-rtc/parley/core/siputil"
	"github.com/parley-rtc/parley/core/transport"
)

// The fast path's own share of a packet, with a request path that does
// nothing (stubPipe): what Intercept costs on the read loop for a
// retransmission, a stateless challenge and a direct request. The whole
// node's cost is core/node's BenchmarkNode*.
//
//	go test -run '^$' -bench . -benchmem ./core/pipeline/udpfast/

// stubPipe challenges when challenge is set and answers direct requests
// 200 at once.
type stubPipe struct{ challenge bool }

func (s stubPipe) StatelessChallenge(_ *transport.Listener, req *sip.Request, _ string) (*sip.Response, Challenge) {
	if !s.challenge {
		return nil, NoChallenge
	}
	return siputil.Response(req, 401, "Unauthorized"), Challenged
}

func (stubPipe) ServeDirect(_ *transport.Listener, req *sip.Request, _ string, tx sip.ServerTransaction) {
	_ = tx.Respond(siputil.Response(req, 200, "OK"))
	tx.Terminate()
}

// discardConn is a PacketConn that drops what is written to it.
type discardConn struct{ net.PacketConn }

func (discardConn) WriteTo(b []byte, _ net.Addr) (int, error) { return len(b), nil }

func benchRegister(branch string) []byte {
	return []byte("REGISTER sip:localhost SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=" + branch + "\r\n" +
		"From: <sip:alice@localhost>;tag=1\r\nTo: <sip:alice@localhost>\r\n" +
		"Call-ID: bench@127.0.0.1\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n" +
		"Contact: <sip:alice@127.0.0.1:5070>\r\nContent-Length: 0\r\n\r\n")
}

func benchPath(b *testing.B, pipe Pipeline) (*Path, *transport.Listener, net.Addr, net.PacketConn) {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	f := New(ctx, pipe, Config{})
	w := discardConn{}
	l := &transport.Listener{Network: "UDP", Packet: w}
	l.Trust = transport.Client
	return f, l, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5070}, w
}

// BenchmarkInterceptResend: a retransmission answered from the record.
func BenchmarkInterceptResend(b *testing.B) {
	f, l, from, w := benchPath(b, stubPipe{})
	f.retrans.Put(retrans.KeyOf("REGISTER", "z9hG4bK-r", from.String()), []byte("SIP/2.0 200 OK\r\n\r\n"))
	data := benchRegister("z9hG4bK-r")
	b.ReportAllocs()
	for b.Loop() {
		if !f.Intercept(l, data, from, w) {
			b.Fatal("not answered from the record")
		}
	}
}

// BenchmarkInterceptChallenge: a stateless challenge (parse, decide,
// serialise, record).
func BenchmarkInterceptChallenge(b *testing.B) {
	benchIntercept(b, stubPipe{challenge: true})
}

// BenchmarkInterceptDirect: a direct request (parse, in-flight set, a
// worker, the final response recorded and sent).
func BenchmarkInterceptDirect(b *testing.B) {
	benchIntercept(b, stubPipe{})
}

func benchIntercept(b *testing.B, pipe Pipeline) {
	f, l, from, w := benchPath(b, pipe)
	datas := make([][]byte, b.N)
	for i := range datas {
		datas[i] = benchRegister("z9hG4bK-" + strconv.Itoa(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !f.Intercept(l, datas[i], from, w) {
			b.Fatal("not taken")
		}
	}
}
