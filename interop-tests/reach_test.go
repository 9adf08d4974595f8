//go:build interop

package interop

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// endpoint is a UDP socket standing for one of bob's devices: it records
// every request and answers 200 unless silent.
type endpoint struct {
	conn   *net.UDPConn
	silent bool
	mu     sync.Mutex
	got    []*sipMsg
}

func newEndpoint(t *testing.T, conn *net.UDPConn, silent bool) *endpoint {
	t.Helper()
	if conn == nil {
		var err error
		if conn, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
	}
	e := &endpoint{conn: conn, silent: silent}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			m, err := parseSipMsg(buf[:n])
			if err != nil || m.IsResponse() {
				continue
			}
			e.mu.Lock()
			e.got = append(e.got, m)
			e.mu.Unlock()
			if !e.silent && m.Method != "ACK" {
				_, _ = conn.WriteToUDP([]byte(m.Reply(200, "OK", "ep"+randHex(3))), from)
			}
		}
	}()
	return e
}

func (e *endpoint) port() int { return e.conn.LocalAddr().(*net.UDPAddr).Port }

// messages returns the MESSAGEs with body it received.
func (e *endpoint) messages(body string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, m := range e.got {
		if m.Method == "MESSAGE" && string(m.Body) == body {
			n++
		}
	}
	return n
}

// registerContact registers contact for ua's user from ua's socket; via
// (host:port) replaces the Via's sent-by when set (NAT simulated).
func registerContact(t *testing.T, ua *rawUA, contact, via string, extra ...string) {
	t.Helper()
	local := ua.local
	if via != "" {
		ua.local = via
		defer func() { ua.local = local }()
	}
	r := rawReq{method: "REGISTER", ruri: "sip:" + domain, to: fmt.Sprintf("<sip:%s@%s>", ua.user, domain),
		from:    fmt.Sprintf("<sip:%s@%s>;tag=%s", ua.user, domain, randHex(4)),
		headers: append([]string{"Contact: " + contact, "Expires: 300"}, extra...)}
	res, err := ua.authed(r, 10*time.Second)
	if err != nil || res.final() == nil || res.final().Code != 200 {
		t.Fatalf("REGISTER %s: %s (err %v)", contact, res.summary(), err)
	}
}

// TestReachThirdPartyContact: bob is registered from one socket with a
// Contact on another port of the same host, no NAT (the Via names the
// source): alice's MESSAGE reaches the Contact, not the REGISTER's
// source.
func TestReachThirdPartyContact(t *testing.T) {
	p := startParleyd(t)
	p.addUser("alice", "secret")
	p.addUser("bob", "secret")
	registrant := newRawUA(t, p, "bob", "secret")
	phone := newEndpoint(t, nil, false)
	registerContact(t, registrant, fmt.Sprintf("<sip:bob@127.0.0.1:%d>", phone.port()), "")

	alice := newRawUA(t, p, "alice", "secret")
	res, err := alice.authed(rawReq{method: "MESSAGE", ruri: "sip:bob@" + domain, body: "to the contact"}, 10*time.Second)
	if err != nil || res.final() == nil || res.final().Code != 200 {
		t.Fatalf("MESSAGE to bob: %s (err %v)", res.summary(), err)
	}
	if phone.messages("to the contact") != 1 {
		t.Fatalf("the Contact's socket got %d MESSAGEs, want 1", phone.messages("to the contact"))
	}
}

// TestReachNATFlow: bob's UA writes an address into its Via that is not
// where its REGISTER comes from (NAT simulated): it is reached on its
// flow, the socket it registered from, not at its Contact.
func TestReachNATFlow(t *testing.T) {
	p := startParleyd(t)
	p.addUser("alice", "secret")
	p.addUser("bob", "secret")
	bob := newRawUA(t, p, "bob", "secret")
	elsewhere := newEndpoint(t, nil, false) // what the Contact names: must get nothing
	registerContact(t, bob, fmt.Sprintf("<sip:bob@127.0.0.1:%d>", elsewhere.port()), "127.0.0.1:5")
	flow := newEndpoint(t, bob.conn, false)

	alice := newRawUA(t, p, "alice", "secret")
	res, err := alice.authed(rawReq{method: "MESSAGE", ruri: "sip:bob@" + domain, body: "down the flow"}, 10*time.Second)
	if err != nil || res.final() == nil || res.final().Code != 200 {
		t.Fatalf("MESSAGE to bob: %s (err %v)", res.summary(), err)
	}
	if flow.messages("down the flow") != 1 || elsewhere.messages("down the flow") != 0 {
		t.Fatalf("flow got %d, Contact got %d; want 1 and 0", flow.messages("down the flow"), elsewhere.messages("down the flow"))
	}
}

// TestRoutingFailoverSilentEndpoint: bob has two endpoints and the most
// recently registered one is a silent UDP socket: alice's MESSAGE goes
// there first and, after the failover timer, to the live one, which
// answers; the next MESSAGE goes to the live one first (the silent one
// is demoted).
func TestRoutingFailoverSilentEndpoint(t *testing.T) {
	p := startParleyd(t, "--failover-timer", "2s")
	p.addUser("alice", "secret")
	p.addUser("bob", "secret")
	live := newEndpoint(t, nil, false)
	dead := newEndpoint(t, nil, true)
	registrant := newRawUA(t, p, "bob", "secret")
	registerContact(t, registrant, fmt.Sprintf("<sip:bob@127.0.0.1:%d>", live.port()), "")
	time.Sleep(20 * time.Millisecond) // the silent one is registered later: the most recent
	registerContact(t, registrant, fmt.Sprintf("<sip:bob@127.0.0.1:%d>", dead.port()), "")

	alice := newRawUA(t, p, "alice", "secret")
	// Bounded well below timer F (32 s): without failover it would be 408.
	res, err := alice.authed(rawReq{method: "MESSAGE", ruri: "sip:bob@" + domain, body: "first"}, 15*time.Second)
	if err != nil || res.final() == nil || res.final().Code != 200 {
		t.Fatalf("MESSAGE to bob: %s (err %v); silent endpoint got %d, live one %d", res.summary(), err, dead.messages("first"), live.messages("first"))
	}
	if dead.messages("first") == 0 || live.messages("first") != 1 {
		t.Fatalf("silent endpoint got %d, live one %d; want >0 and 1", dead.messages("first"), live.messages("first"))
	}
	res, err = alice.authed(rawReq{method: "MESSAGE", ruri: "sip:bob@" + domain, body: "second"}, 15*time.Second)
	if err != nil || res.final() == nil || res.final().Code != 200 {
		t.Fatalf("second MESSAGE: %s (err %v)", res.summary(), err)
	}
	if dead.messages("second") != 0 {
		t.Fatalf("the demoted endpoint got the second MESSAGE first")
	}
}
