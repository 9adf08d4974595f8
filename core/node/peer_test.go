package node

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// peer is a SIP server for federation tests: it answers MESSAGE with
// code, INVITE with 200 (copying Record-Route, with its own Contact),
// BYE with 200, and hands every request to got. It listens on UDP, or on
// TLS when given a certificate.
type peer struct {
	ua     *sipgo.UserAgent
	client *sipgo.Client
	addr   string // 127.0.0.1:port
	got    chan *sip.Request
	code   atomic.Int32
}

func newPeer(t *testing.T, name string, code int, cert *tls.Config) *peer {
	t.Helper()
	opts := []sipgo.UserAgentOption{sipgo.WithUserAgent(name), sipgo.WithUserAgentHostname(name)}
	if cert != nil {
		opts = append(opts, sipgo.WithUserAgenTLSConfig(cert))
	}
	u, err := sipgo.NewUA(opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(u)
	p := &peer{ua: u, got: make(chan *sip.Request, 16)}
	p.code.Store(int32(code))
	port := freePort(t)
	p.addr = fmt.Sprintf("127.0.0.1:%d", port)
	record := func(req *sip.Request) {
		select {
		case p.got <- req:
		default:
		}
	}
	srv.OnMessage(func(req *sip.Request, tx sip.ServerTransaction) {
		record(req)
		_ = tx.Respond(sip.NewResponseFromRequest(req, int(p.code.Load()), "Peer", nil))
	})
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		record(req)
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		for _, h := range req.GetHeaders("Record-Route") {
			res.AppendHeader(sip.HeaderClone(h))
		}
		scheme := "udp"
		if cert != nil {
			scheme = "tls"
		}
		res.AppendHeader(sip.NewHeader("Contact", fmt.Sprintf("<sip:%s@%s;transport=%s>", name, p.addr, scheme)))
		_ = tx.Respond(res)
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { record(req) })
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		record(req)
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	if cert != nil {
		ln, err := tls.Listen("tcp", p.addr, cert)
		if err != nil {
			t.Fatal(err)
		}
		go srv.ServeTLS(ln)
		t.Cleanup(func() { ln.Close() })
		p.client, _ = sipgo.NewClient(u, sipgo.WithClientHostname("127.0.0.1"))
	} else {
		pc, err := net.ListenPacket("udp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		go srv.ServeUDP(pc)
		t.Cleanup(func() { pc.Close() })
		for i := 0; i < 100; i++ { // send from the listening socket once it serves
			if c, err := u.TransportLayer().GetConnection("udp", p.addr); err == nil && c != nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		p.client, _ = sipgo.NewClient(u, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(p.addr))
	}
	t.Cleanup(func() { u.Close() })
	return p
}

// next returns the next request the peer got, failing after wait.
func (p *peer) next(t *testing.T, wait time.Duration) *sip.Request {
	t.Helper()
	select {
	case r := <-p.got:
		return r
	case <-time.After(wait):
		t.Fatal("peer got nothing")
		return nil
	}
}

// send sends req to dest and returns its final response (nil on error).
func (p *peer) send(req *sip.Request, dest string, wait time.Duration) *sip.Response {
	req.SetDestination(dest)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	res, err := p.client.Do(ctx, req)
	if err != nil {
		return nil
	}
	return res
}

// sipURI parses a URI or fails the test.
func sipURI(t *testing.T, s string) sip.Uri {
	t.Helper()
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		t.Fatal(err)
	}
	return u
}
