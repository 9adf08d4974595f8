package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/config"
	"github.com/parley-rtc/parley/core/logging"
	"github.com/parley-rtc/parley/internal/testport"
)

func freePort(t testing.TB) int {
	t.Helper()
	ps, err := testport.Free(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	return ps[0]
}

type testNode struct {
	cfg        config.Config
	log        *slog.Logger
	sip, admin string
	xcap       string // base URL of the XCAP server
	opts       []Option
	cancel     context.CancelFunc
	done       chan error
}

func startNode(t *testing.T) *testNode {
	t.Helper()
	return startNodeWith(t, nil)
}

// startNodeWith starts a node on free loopback ports; tweak may change
// the configuration first.
func startNodeWith(t testing.TB, tweak func(*config.Config)) *testNode {
	t.Helper()
	n := buildNode(t, tweak)
	n.start(t)
	return n
}

// buildNode configures a node on free loopback ports without starting it;
// it is stopped when the test ends.
func buildNode(t testing.TB, tweak func(*config.Config)) *testNode {
	t.Helper()
	cfg := config.Default()
	sipPort := freePort(t)
	cfg.DataDir = t.TempDir()
	cfg.SIPListen = []string{fmt.Sprintf("udp://127.0.0.1:%d", sipPort), fmt.Sprintf("tcp://127.0.0.1:%d", sipPort)}
	cfg.AdminListen = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	raft, err := testport.Free(1, 2) // and at raft + 1 the cluster link (cluster-sip auto)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RaftListen = fmt.Sprintf("127.0.0.1:%d", raft[0])
	cfg.XCAPListen = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	xcapURL := "http://" + cfg.XCAPListen
	cfg.AdminToken = "test-token"
	cfg.RefreshInterval = 200 * time.Millisecond
	if tweak != nil {
		tweak(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	n := &testNode{cfg: cfg, sip: fmt.Sprintf("127.0.0.1:%d", sipPort), admin: "http://" + cfg.AdminListen, xcap: xcapURL}
	n.log = slog.New(slog.DiscardHandler)
	if lv := os.Getenv("PARLEY_TEST_LOG"); lv != "" { // e.g. PARLEY_TEST_LOG=debug go test -run X -v
		n.log, _ = logging.New(os.Stderr, "text", lv)
	}
	t.Cleanup(func() { n.stop(t) })
	return n
}

// start runs the node and waits until it is ready.
func (n *testNode) start(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan error, 1)
	go func(done chan error) { done <- Run(ctx, n.cfg, n.log, n.opts...) }(n.done)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(n.admin + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("node not ready")
}

// stop ends the node's run (a no-op when stopped).
func (n *testNode) stop(t testing.TB) {
	if n.cancel == nil {
		return
	}
	n.cancel()
	n.cancel = nil
	select {
	case err := <-n.done:
		if err != nil {
			t.Errorf("node: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("node did not stop")
	}
}

// restart stops the node and starts it again on the same data and ports.
func (n *testNode) restart(t *testing.T) {
	t.Helper()
	n.stop(t)
	n.start(t)
}

// adminCall sends one admin API request with a JSON body and checks the status.
func (n *testNode) adminCall(t testing.TB, method, path string, body any, want int) {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, n.admin+path, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer test-token")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d", method, path, res.StatusCode, want)
	}
}

func (n *testNode) addUser(t *testing.T, name, pw string) {
	t.Helper()
	n.adminCall(t, "POST", "/v1/users", map[string]string{"username": name, "password": pw}, 201)
}

// ua is a sipgo user agent listening on its own UDP port.
type ua struct {
	client   *sipgo.Client
	port     int
	got      chan *sip.Request
	cancels  chan *sip.Request
	notifies chan *sip.Request
	redirect atomic.Pointer[string] // when set, MESSAGEs are answered 302 to it
	answer   atomic.Bool            // when set, INVITEs are answered 200 at once
	mute     atomic.Bool            // when set, NOTIFYs are never answered
	inDialog chan *sip.Request      // ACKs and BYEs received
}

func newUA(t *testing.T, name string) *ua {
	t.Helper()
	u, err := sipgo.NewUA(sipgo.WithUserAgent(name), sipgo.WithUserAgentHostname("localhost"))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(u)
	port := freePort(t)
	pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	a := &ua{port: port, got: make(chan *sip.Request, 4), cancels: make(chan *sip.Request, 4), notifies: make(chan *sip.Request, 64),
		inDialog: make(chan *sip.Request, 4)}
	srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		a.notifies <- req
		if a.mute.Load() {
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	// INVITEs ring until the caller gives up: sipgo answers the CANCEL
	// with 200 and the INVITE with 487.
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		if a.answer.Load() {
			res := sip.NewResponseFromRequest(req, 200, "OK", nil)
			res.To().Params.Add("tag", sip.GenerateTagN(8))
			res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: name, Host: "127.0.0.1", Port: port}})
			_ = tx.Respond(res)
			return
		}
		tx.OnCancel(func(c *sip.Request) { a.cancels <- c })
		_ = tx.Respond(sip.NewResponseFromRequest(req, 180, "Ringing", nil))
		select {
		case <-tx.Done():
		case <-time.After(20 * time.Second):
		}
	})
	srv.OnAck(func(req *sip.Request, _ sip.ServerTransaction) { a.inDialog <- req })
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		a.inDialog <- req
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	srv.OnMessage(func(req *sip.Request, tx sip.ServerTransaction) {
		if to := a.redirect.Load(); to != nil {
			res := sip.NewResponseFromRequest(req, 302, "Moved Temporarily", nil)
			res.AppendHeader(sip.NewHeader("Contact", "<"+*to+">"))
			_ = tx.Respond(res)
			return
		}
		a.got <- req
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go srv.ServeUDP(pc)
	for i := 0; i < 100; i++ { // the client sends from the listening socket once it serves
		if c, err := u.TransportLayer().GetConnection("udp", pc.LocalAddr().String()); err == nil && c != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.client, _ = sipgo.NewClient(u, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(pc.LocalAddr().String()))
	t.Cleanup(func() { pc.Close(); u.Close() })
	return a
}

// do sends req to the node, answering one digest challenge.
func (a *ua) do(t *testing.T, n *testNode, req *sip.Request, user, pw string) *sip.Response {
	t.Helper()
	req.SetDestination(n.sip)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := a.client.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		res, err = a.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
	}
	return res
}

func (a *ua) register(t *testing.T, n *testNode, user, pw string) *sip.Response {
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "localhost"})
	aor := sip.Uri{Scheme: "sip", User: user, Host: "localhost"}
	req.AppendHeader(&sip.FromHeader{Address: aor, Params: tagParams()})
	req.AppendHeader(&sip.ToHeader{Address: aor})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: a.port}})
	req.AppendHeader(sip.NewHeader("Expires", "300"))
	return a.do(t, n, req, user, pw)
}

func (a *ua) message(t *testing.T, n *testNode, from, to, pw string) *sip.Response {
	return a.messageBody(t, n, from, to, pw, "hello "+to)
}

// messageBody sends a MESSAGE with body to to ("name" or "+number;user=phone").
func (a *ua) messageBody(t *testing.T, n *testNode, from, to, pw, body string) *sip.Response {
	var u sip.Uri
	if err := sip.ParseUri("sip:"+to+"@localhost", &u); err != nil {
		t.Fatal(err)
	}
	if i := len(to) - len(";user=phone"); i > 0 && to[i:] == ";user=phone" { // a number
		_ = sip.ParseUri("sip:"+to[:i]+"@localhost;user=phone", &u)
	}
	req := sip.NewRequest(sip.MESSAGE, u)
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: from, Host: "localhost"}, Params: tagParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
	req.SetBody([]byte(body))
	return a.do(t, n, req, from, pw)
}

func TestNodeRegisterAndRelayMessage(t *testing.T) {
	n := startNode(t)
	n.addUser(t, "alice", "wonder")
	n.addUser(t, "bob", "builder")
	n.addUser(t, "carol", "singer")
	alice, bob := newUA(t, "alice"), newUA(t, "bob")

	if res := bob.register(t, n, "bob", "wrong"); res.StatusCode != 403 {
		t.Fatalf("wrong password: %d", res.StatusCode)
	}
	if res := bob.register(t, n, "bob", "builder"); res.StatusCode != 200 || res.Contact() == nil {
		t.Fatalf("register: %d", res.StatusCode)
	}
	if res := alice.message(t, n, "alice", "bob", "wonder"); res.StatusCode != 200 {
		t.Fatalf("message to bob: %d %s", res.StatusCode, res.Reason)
	}
	select {
	case req := <-bob.got:
		if string(req.Body()) != "hello bob" || req.GetHeader("Proxy-Authorization") != nil {
			t.Fatalf("bob got %q with credentials %v", req.Body(), req.GetHeader("Proxy-Authorization"))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("bob got nothing")
	}
	if res := alice.message(t, n, "alice", "nobody", "wonder"); res.StatusCode != 404 {
		t.Fatalf("unknown user: %d", res.StatusCode)
	}
	if res := alice.message(t, n, "alice", "carol", "wonder"); res.StatusCode != 202 {
		t.Fatalf("unregistered user (stored offline): %d", res.StatusCode)
	}
}

func tagParams() sip.HeaderParams {
	p := sip.NewParams()
	p.Add("tag", sip.GenerateTagN(8))
	return p
}

// blockWatcher puts watcher on user's block list through the admin API.
func (n *testNode) blockWatcher(t *testing.T, user, watcher string) {
	t.Helper()
	n.adminCall(t, "PUT", "/v1/users/"+user+"/rules", map[string][]string{"block": {watcher}}, 204)
}
