package node

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/host"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// linkUA is an in-process plugin that is a SIP user agent on the node's
// SIP link: it claims svc@localhost, has the chain proxy INVITEs for it
// to its own UA, answers them, and can send requests of its own.
type linkUA struct {
	mu      sync.Mutex
	cfg     sdk.Config
	host    sdk.Host
	ua      *sipgo.UserAgent
	client  *sipgo.Client
	addr    string // its own UDP address
	invites chan *sip.Request
	acks    chan *sip.Request
}

func newLinkUA(t *testing.T) *linkUA {
	l := &linkUA{invites: make(chan *sip.Request, 4), acks: make(chan *sip.Request, 4)}
	t.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.ua != nil {
			_ = l.ua.Close()
		}
	})
	return l
}

func (l *linkUA) app() sdk.App {
	return sdk.App{
		Name: "svc",
		Configure: func(_ context.Context, cfg sdk.Config, h sdk.Host) error {
			if cfg.Link.Address == "" || cfg.Link.Token == "" {
				return fmt.Errorf("no SIP link in %+v", cfg.Link)
			}
			ua, err := sipgo.NewUA(sipgo.WithUserAgent("svc"))
			if err != nil {
				return err
			}
			srv, _ := sipgo.NewServer(ua)
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
				l.invites <- req
				res := sip.NewResponseFromRequest(req, 200, "OK", []byte("v=0\r\n"))
				res.To().Params.Add("tag", sip.GenerateTagN(8))
				res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "svc", Host: "127.0.0.1", Port: pc.LocalAddr().(*net.UDPAddr).Port}})
				res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
				_ = tx.Respond(res)
			})
			srv.OnAck(func(req *sip.Request, _ sip.ServerTransaction) { l.acks <- req })
			go srv.ServeUDP(pc)
			client, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(pc.LocalAddr().String()))
			l.mu.Lock()
			l.cfg, l.host, l.ua, l.client, l.addr = cfg, h, ua, client, pc.LocalAddr().String()
			l.mu.Unlock()
			return nil
		},
		Claim: func(cfg sdk.Config) []string { return []string{"svc@" + cfg.Domains[0]} },
		Handle: func(_ context.Context, req *sdk.Request) sdk.Verdict {
			if req.Method == sip.INVITE && req.Recipient.User == "svc" {
				l.mu.Lock()
				defer l.mu.Unlock()
				return sdk.Proxy("sip:" + l.addr + ";transport=udp")
			}
			return sdk.Continue()
		},
	}
}

// send sends req from the plugin's own UA to the node's link.
func (l *linkUA) send(t *testing.T, req *sip.Request, token string) *sip.Response {
	t.Helper()
	l.mu.Lock()
	client, link := l.client, l.cfg.Link.Address
	l.mu.Unlock()
	if token != "" {
		req.AppendHeader(sip.NewHeader(sdk.LinkHeader, token))
	}
	req.SetDestination(link)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := client.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func linkMessage(from, to string) *sip.Request {
	var u sip.Uri
	_ = sip.ParseUri("sip:"+to, &u)
	req := sip.NewRequest(sip.MESSAGE, u)
	var f sip.Uri
	_ = sip.ParseUri("sip:"+from, &f)
	req.AppendHeader(&sip.FromHeader{Address: f, Params: tagParams()})
	req.AppendHeader(&sip.ToHeader{Address: u})
	req.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
	req.SetBody([]byte("over the link"))
	return req
}

// TestSIPLink: a plugin's own user agent answers a call the chain proxied
// to it, record-routed on both sides; its requests over the link assert
// only claimed identities, need its credential, and never carry the
// credential past the node; SendRequest without a target routes like a
// request from the link.
func TestSIPLink(t *testing.T) {
	l := newLinkUA(t)
	n := buildNode(t, nil)
	n.opts = []Option{WithPluginLauncher(host.InProcess(map[string]sdk.App{"svc": l.app()}, n.log))}
	n.start(t)
	n.addUser(t, "alice", "pw-alice")
	n.addUser(t, "bob", "pw-bob")
	alice, bob := newUA(t, "alice"), newUA(t, "bob")
	bob.register(t, n, "bob", "pw-bob")
	n.adminCall(t, "POST", "/v1/apps", map[string]any{"name": "svc", "kind": "plugin", "command": "svc", "position": 50, "enabled": true}, 201)

	// The call: alice -> node -> plugin UA, once the plugin runs.
	var res *sip.Response
	for i := 0; i < 50; i++ {
		inv := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "svc", Host: "localhost"})
		inv.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "localhost"}, Params: tagParams()})
		inv.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: alice.port}})
		if res = alice.do(t, n, inv, "alice", "pw-alice"); res.StatusCode == 200 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if res.StatusCode != 200 {
		t.Fatalf("INVITE svc: %d %s", res.StatusCode, res.Reason)
	}
	var inv *sip.Request
	select {
	case inv = <-l.invites:
	case <-time.After(5 * time.Second):
		t.Fatal("the plugin's UA got no INVITE")
	}
	rr := inv.GetHeaders("Record-Route")
	if len(rr) != 2 {
		t.Fatalf("plugin side: %d Record-Route, want 2 (link and client listener)", len(rr))
	}
	l.mu.Lock()
	link, token := l.cfg.Link.Address, l.cfg.Link.Token
	l.mu.Unlock()
	if !strings.Contains(rr[0].Value(), link) {
		t.Fatalf("top Record-Route %q does not name the link %s", rr[0].Value(), link)
	}
	if len(res.GetHeaders("Record-Route")) != 2 {
		t.Fatalf("caller side: %d Record-Route", len(res.GetHeaders("Record-Route")))
	}

	// alice's ACK follows the route set to the plugin's UA.
	ack := sip.NewRequest(sip.ACK, res.Contact().Address)
	rrs := res.GetHeaders("Record-Route")
	for i := len(rrs) - 1; i >= 0; i-- {
		ack.AppendHeader(sip.NewHeader("Route", rrs[i].Value()))
	}
	ack.AppendHeader(sip.HeaderClone(res.From()))
	ack.AppendHeader(sip.HeaderClone(res.To()))
	ack.AppendHeader(sip.HeaderClone(res.CallID()))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: res.CSeq().SeqNo, MethodName: sip.ACK})
	ack.SetDestination(n.sip)
	if err := alice.client.WriteRequest(ack); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.acks:
	case <-time.After(5 * time.Second):
		t.Fatal("the plugin's UA got no ACK")
	}

	// The plugin hangs up over the link: alice gets the BYE, without the
	// credential.
	bye := sip.NewRequest(sip.BYE, inv.Contact().Address)
	for _, h := range rr {
		bye.AppendHeader(sip.NewHeader("Route", h.Value()))
	}
	from := inv.To().Address
	bye.AppendHeader(&sip.FromHeader{Address: from, Params: res.To().Params.Clone()})
	bye.AppendHeader(&sip.ToHeader{Address: inv.From().Address, Params: inv.From().Params.Clone()})
	bye.AppendHeader(sip.HeaderClone(inv.CallID()))
	bye.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.BYE})
	if r := l.send(t, bye, token); r.StatusCode != 200 {
		t.Fatalf("BYE over the link: %d %s", r.StatusCode, r.Reason)
	}
	select {
	case got := <-alice.inDialog:
		if got.Method != sip.BYE || got.GetHeader(sdk.LinkHeader) != nil {
			t.Fatalf("alice got %s with link header %v", got.Method, got.GetHeader(sdk.LinkHeader))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("alice got no BYE")
	}

	// Requests of its own: a claimed identity reaches bob, without the
	// credential; another identity, no credential or a wrong one: 403.
	if r := l.send(t, linkMessage("svc@localhost", "bob@localhost"), token); r.StatusCode != 200 {
		t.Fatalf("MESSAGE from svc over the link: %d %s", r.StatusCode, r.Reason)
	}
	select {
	case got := <-bob.got:
		if got.GetHeader(sdk.LinkHeader) != nil || got.GetHeader("Proxy-Authorization") != nil {
			t.Fatal("bob got the link credential")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("bob got nothing")
	}
	for _, tc := range []struct {
		name, from, token string
	}{
		{"unclaimed identity", "alice@localhost", token},
		{"no credential", "svc@localhost", ""},
		{"wrong credential", "svc@localhost", strings.Repeat("0", len(token))},
	} {
		if r := l.send(t, linkMessage(tc.from, "bob@localhost"), tc.token); r.StatusCode != 403 {
			t.Errorf("%s: %d %s, want 403", tc.name, r.StatusCode, r.Reason)
		}
	}

	// SendRequest without a target goes the same way.
	l.mu.Lock()
	h := l.host
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := linkMessage("svc@localhost", "bob@localhost")
	m.AppendHeader(sip.NewHeader("Call-ID", sip.GenerateTagN(12)))
	m.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.MESSAGE})
	r, err := h.SendRequest(ctx, m, "")
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("SendRequest: %v %v", r, err)
	}
	select {
	case <-bob.got:
	case <-time.After(5 * time.Second):
		t.Fatal("bob got nothing from SendRequest")
	}
	m = linkMessage("alice@localhost", "bob@localhost")
	m.AppendHeader(sip.NewHeader("Call-ID", sip.GenerateTagN(12)))
	m.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.MESSAGE})
	if r, err := h.SendRequest(ctx, m, ""); err != nil || r.StatusCode != 403 {
		t.Fatalf("SendRequest as alice: %v %v, want 403", r, err)
	}
}
