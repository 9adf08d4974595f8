package webrtc

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// fakeLink plays the node's link and the phone behind it: it answers
// the gateway's INVITE with a plain offer's answer from a UDP socket and
// records what the gateway asserted.
type fakeLink struct {
	addr    string
	rtp     *net.UDPConn
	invites chan *sip.Request
	byes    chan *sip.Request
}

func startFakeLink(t *testing.T) *fakeLink {
	t.Helper()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeLink{addr: udp.LocalAddr().String(), invites: make(chan *sip.Request, 2), byes: make(chan *sip.Request, 2)}
	if f.rtp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	ua, _ := sipgo.NewUA(sipgo.WithUserAgentHostname("127.0.0.1"))
	srv, _ := sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	port := udp.LocalAddr().(*net.UDPAddr).Port
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		f.invites <- req
		res := sip.NewSDPResponseFromRequest(req, phoneAnswer(f.rtp.LocalAddr().(*net.UDPAddr).Port, "8", "rtpmap:8 PCMA/8000"))
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: port}})
		_ = tx.Respond(res)
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		f.byes <- req
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ServeUDP(udp)
	}()
	t.Cleanup(func() {
		ua.Close()
		udp.Close()
		f.rtp.Close()
		<-done
	})
	return f
}

// TestCallBrowserToPhone: a browser's INVITE (a pion offer) reaches the
// gateway's user agent; the gateway calls the phone through the link
// with the caller's From, its own identity asserted and the link
// credential, answers the browser, relays audio from the phone, and the
// browser's BYE ends the phone's leg too.
func TestCallBrowserToPhone(t *testing.T) {
	link := startFakeLink(t)
	g := NewGateway(quiet)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := g.Configure(ctx, sdk.Config{App: "webrtc", Domains: []string{"example.com"},
		Settings: map[string]string{"udp-port": "0", "ice-address": "127.0.0.1", "rtp-ports": "42200-42399"},
		Link:     sdk.Link{Address: link.addr, Token: "tok-1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()

	browser := newTestBrowser(t)
	offer := browser.offer(t)
	cua, _ := sipgo.NewUA(sipgo.WithUserAgentHostname("127.0.0.1"))
	defer cua.Close()
	client, _ := sipgo.NewClient(cua, sipgo.WithClientHostname("127.0.0.1"))
	dc := sipgo.NewDialogClientCache(client, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: 5999}})
	host, port, _ := net.SplitHostPort(g.Addr())
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "webrtc-gateway", Host: host})
	fmt.Sscan(port, &req.Recipient.Port)
	req.SetTransport("TCP")
	fromParams := sip.NewParams()
	fromParams.Add("tag", "a1")
	req.AppendHeader(&sip.FromHeader{DisplayName: "Alice", Address: sip.Uri{Scheme: "sip", User: "alice", Host: "example.com"}, Params: fromParams})
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: "example.com"}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader(HeaderTarget, "sip:bob@example.com"))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	sess, err := dc.WriteInvite(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Ack(ctx); err != nil {
		t.Fatal(err)
	}

	inv := <-link.invites
	for name, want := range map[string]string{"From": "<sip:alice@example.com>", "P-Asserted-Identity": "<sip:webrtc-gateway@example.com>", sdk.LinkHeader: "tok-1"} {
		if h := inv.GetHeader(name); h == nil || !strings.Contains(h.Value(), want) {
			t.Errorf("leg B %s = %v, want %q", name, h, want)
		}
	}
	if inv.Recipient.String() != "sip:bob@example.com" || !strings.Contains(string(inv.Body()), "RTP/AVP 0 8 126") {
		t.Errorf("leg B %s with\n%s", inv.Recipient.String(), inv.Body())
	}
	if err := browser.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(sess.InviteResponse.Body())}); err != nil {
		t.Fatal(err)
	}
	if g.Calls() != 1 {
		t.Fatalf("calls %d", g.Calls())
	}

	// Phone -> browser, through the gateway's plain port from its offer.
	var plainPort int
	fmt.Sscanf(string(inv.Body())[strings.Index(string(inv.Body()), "m=audio "):], "m=audio %d", &plainPort)
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: plainPort}
	deadline := time.Now().Add(10 * time.Second)
	arrived := false
	for seq := uint16(1); !arrived && time.Now().Before(deadline); seq++ {
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 8, SequenceNumber: seq, SSRC: 7}, Payload: []byte("tone")}).Marshal()
		link.rtp.WriteToUDP(b, dst)
		select {
		case p := <-browser.got:
			arrived = p.PayloadType == 8 && string(p.Payload) == "tone"
		case <-time.After(20 * time.Millisecond):
		}
	}
	if !arrived {
		t.Fatal("phone -> browser: nothing arrived")
	}

	// The browser hangs up: the phone gets a BYE with the credential.
	bye := sip.NewRequest(sip.BYE, sess.InviteResponse.Contact().Address)
	if err := sess.WriteBye(ctx, bye); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-link.byes:
		if h := b.GetHeader(sdk.LinkHeader); h == nil || h.Value() != "tok-1" {
			t.Errorf("BYE to phone without the link credential: %v", h)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the phone got no BYE")
	}
	for g.Calls() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g.Calls() != 0 {
		t.Fatal("call not released")
	}
}
