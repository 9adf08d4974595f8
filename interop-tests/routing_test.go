//go:build interop

package interop

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Routing-core interop tests: static routes to an IP-PSTN gateway (a sipp
// UAS on its own port), trusted next hops, the per-connection transaction
// limit, silent next hops (408/504, timer B vs. C), Route forging, the IP
// destination rule, Max-Forwards and oversized requests. Helpers shared by
// these tests are in routing_helpers_test.go.

// TestPSTNGatewayTrustedRoute: phone:+1 routes to a sipp "gateway" marked
// trusted. (a) A registered user's calls to tel:+15550100 and
// sip:+15550100@localhost;user=phone are challenged, then reach the
// gateway with the Request-URI unchanged, and complete (ACK, BYE). Route
// choice: phone:+1555019 (a second gateway, a sipUA that answers 200) wins
// for +15550199 as the longer prefix, and phone:+1555 --priority 9 (a trap)
// never wins over priority 0; a number no route matches gets 404.
// (b) The gateway, sending from the route's next-hop port, calls alice
// without credentials (no 407). (c) The same INVITE from another port is
// challenged. (d) route list shows the routes; after route del of all of
// them the number gets 404.
func TestPSTNGatewayTrustedRoute(t *testing.T) {
	p := startParleyd(t)
	p.addUser("alice", "secret")
	p.addUser("bob", "secret")
	gwPort := freePort(t)
	gw2 := newSipUA(t, p.sipAddr(), "gw2", "unused") // answers every request with 200
	trap := newUDPTrap(t, "127.0.0.1")
	p.addRoute(t, "phone:+1", fmt.Sprintf("sip:127.0.0.1:%d", gwPort), "--trusted")
	p.addRoute(t, "phone:+1555019", "sip:"+gw2.local)
	p.addRoute(t, "phone:+1555", fmt.Sprintf("sip:127.0.0.1:%d", trap.port), "--priority", "9")

	// (a) bob (registered from bobPort) calls two forms of the number.
	bobPort := freePort(t)
	if _, err := runSipp(t, p.sipAddr(), sipp{Name: "bob-register", Scenario: "register.xml", User: "bob",
		Password: "secret", LocalPort: bobPort, Keys: map[string]string{"expires": "600"}}); err != nil {
		t.Fatal(err)
	}
	ruris := []string{"tel:+15550100", "sip:+15550100@localhost;user=phone"}
	gw := startSipp(t, p.sipAddr(), sipp{Name: "gateway-uas", Scenario: "route_gw_uas.xml",
		LocalPort: gwPort, Calls: len(ruris), Timeout: 20 * time.Second})
	time.Sleep(300 * time.Millisecond) // let the server-mode sipp bind
	for i, ruri := range ruris {
		if _, err := runSipp(t, p.sipAddr(), sipp{Name: fmt.Sprintf("bob-call-%d", i), Scenario: "route_uac_invite.xml",
			User: "bob", Password: "secret", LocalPort: bobPort, Keys: map[string]string{"ruri": ruri}}); err != nil {
			t.Errorf("(a) bob calling %s through the gateway route: %v", ruri, err)
		}
	}
	if err := gw.wait(); err != nil {
		t.Errorf("(a) gateway UAS: %v", err)
	}
	got := sippLog(gw.msgLog)
	var invites []string
	for _, m := range got {
		if !m.sent && m.msg.Method == "INVITE" {
			invites = append(invites, m.msg.RURI)
		}
	}
	if strings.Join(invites, " | ") != strings.Join(ruris, " | ") {
		t.Errorf("(a) Request-URIs of the INVITEs the gateway received = %q, want %q (unchanged)", invites, ruris)
	}
	for _, method := range []string{"ACK", "BYE"} {
		if n := countReceived(got, method); n != len(ruris) {
			t.Errorf("(a) gateway received %d %s, want %d", n, method, len(ruris))
		}
	}
	bob := newRawUA(t, p, "bob", "secret")
	r := rawReq{method: "MESSAGE", ruri: "tel:+15550199", body: "longest prefix"}
	r.defaults("bob")
	res, err := bob.authed(r, 5*time.Second)
	if err != nil || res.final() == nil || res.final().Code != 200 {
		t.Errorf("(a) MESSAGE to tel:+15550199 (phone:+1555019, the longest prefix): want gw2's 200, got %s (err %v)", res.summary(), err)
	} else if m := gw2.received(r.callID); len(m) == 0 || m[0].RURI != "tel:+15550199" {
		t.Errorf("(a) gw2 received %d MESSAGEs for tel:+15550199 (want 1 with that Request-URI): %v", len(m), m)
	}
	res, err = bob.authed(rawReq{method: "MESSAGE", ruri: "tel:+4420795000", body: "no route"}, 5*time.Second)
	if err != nil || res.final() == nil || res.final().Code != 404 {
		t.Errorf("(a) MESSAGE to tel:+4420795000 (no route): want 404, got %s (err %v)", res.summary(), err)
	}
	if c := trap.caught(); len(c) > 0 {
		t.Errorf("(a) the phone:+1555 --priority 9 route was used (%d datagrams), first:\n%s", len(c), c[0])
	}

	// (b) The gateway calls alice from its own port: no challenge.
	cid := uniqueCallID(t)
	alice := startRegisteredUAS(t, p, "uas_invite.xml", "alice", cid)
	if _, err := runSipp(t, p.sipAddr(), sipp{Name: "gateway-uac", Scenario: "route_gw_uac_invite.xml",
		User: "+15550199", Password: "unused", Service: "alice", LocalPort: gwPort, CallID: cid}); err != nil {
		t.Errorf("(b) gateway (from its next-hop port %d) calling alice: %v", gwPort, err)
	}
	if err := alice.wait(); err != nil {
		t.Errorf("(b) alice's UAS: %v", err)
	}

	// (c) The same INVITE from another port: 407.
	if _, err := runSipp(t, p.sipAddr(), sipp{Name: "gateway-uac-other-port", Scenario: "route_uac_invite_407.xml",
		User: "+15550199", Password: "unused", Service: "alice"}); err != nil {
		t.Errorf("(c) the gateway's INVITE from a port that is not the next hop's: want 407: %v", err)
	}

	// (d) route list, route del.
	routes := p.routes(t)
	if len(routes) != 3 {
		t.Errorf("(d) route list: %d routes, want 3: %+v", len(routes), routes)
	}
	for _, rt := range routes {
		if _, err := p.ctl("route", "del", rt.ID); err != nil {
			t.Error(err)
		}
	}
	if left := p.routes(t); len(left) != 0 {
		t.Errorf("(d) route list after deleting every route: %+v", left)
	}
	res, err = bob.authed(rawReq{method: "MESSAGE", ruri: "tel:+15550100", body: "routes gone"}, 5*time.Second)
	if err != nil || res.final() == nil || res.final().Code != 404 {
		t.Errorf("(d) MESSAGE to tel:+15550100 after route del: want 404, got %s (err %v)", res.summary(), err)
	}
}

// TestEleventhTransaction503: a gateway that never answers INVITEs holds
// the proxy's transactions open; one sipp socket (one "connection") of a
// user sends 11 authenticated calls to it at 10 calls/s. Ten stay
// outstanding until the transaction lifetime ends them with 504; the
// eleventh arrives while ten are outstanding and gets 503 with
// Retry-After (on its first or its authenticated INVITE, whichever met
// the full connection), and never reaches the gateway.
func TestEleventhTransaction503(t *testing.T) {
	p := startParleyd(t, "--sip-timeout", "4s")
	p.addUser("bob", "secret")
	gwPort := freePort(t)
	p.addRoute(t, "phone:+1", fmt.Sprintf("sip:127.0.0.1:%d", gwPort))
	gw := startSipp(t, p.sipAddr(), sipp{Name: "silent-gateway", Scenario: "route_gw_silent_invite.xml",
		LocalPort: gwPort, Calls: 10, Timeout: 20 * time.Second})
	time.Sleep(300 * time.Millisecond)
	bob, err := runSipp(t, p.sipAddr(), sipp{Name: "bob-11-calls", Scenario: "route_uac_invite_final.xml",
		User: "bob", Password: "secret", Calls: 11, Keys: map[string]string{"ruri": "tel:+15550100"}})
	if err != nil {
		t.Error(err)
	}
	order, finals := receivedFinals(sippLog(bob.msgLog))
	var got []string
	n503, n504 := 0, 0
	for i, cid := range order {
		var codes []string
		for _, m := range finals[cid] {
			codes = append(codes, strconv.Itoa(m.Code))
			switch m.Code {
			case 503:
				n503++
				if ra := m.Header("Retry-After"); ra == "" {
					t.Errorf("call %d: 503 without Retry-After:\n%s", i+1, m.Raw)
				}
			case 504:
				n504++
			}
		}
		got = append(got, fmt.Sprintf("call %d: %s", i+1, strings.Join(codes, ",")))
	}
	t.Logf("final responses per call:\n%s", strings.Join(got, "\n"))
	if n503 != 1 || n504 != 10 {
		t.Errorf("want 10 calls ending in 504 and one 503; got %d x 503, %d x 504", n503, n504)
	}
	if len(order) == 11 {
		last := finals[order[10]]
		if len(last) == 0 || last[len(last)-1].Code != 503 {
			t.Errorf("the 11th call should be the one refused with 503")
		}
	}
	if err := gw.wait(); err != nil {
		t.Errorf("silent gateway: %v", err)
	}
	if n := countReceived(sippLog(gw.msgLog), "INVITE"); n < 10 {
		t.Errorf("gateway received %d INVITEs (with retransmissions), want at least 10", n)
	}
}

// finalFor is the last final response sipp received to an INVITE or a
// MESSAGE (not to a CANCEL, not a 401/407 challenge); 0 if none.
func finalFor(p *sippProc) (int, *sipMsg) {
	order, finals := receivedFinals(sippLog(p.msgLog))
	for i := len(order) - 1; i >= 0; i-- {
		f := finals[order[i]]
		for j := len(f) - 1; j >= 0; j-- {
			cseq := strings.Fields(f[j].Header("CSeq"))
			if len(cseq) == 2 && (cseq[1] == "INVITE" || cseq[1] == "MESSAGE") && f[j].Code != 401 && f[j].Code != 407 {
				return f[j].Code, f[j]
			}
		}
	}
	return 0, nil
}

// TestSilentNextHop (--sip-timeout 4s): next hops that never answer.
// A MESSAGE to a silent gateway (static route) gets 504, to a silent
// registered user 408, and so does an INVITE to a user's phone that sends
// nothing at all; each after about the transaction lifetime. An INVITE
// whose callee sent 100 Trying outlives the lifetime (100 stops timer B;
// timer C, 3 min, applies): the caller cancels after 6 s and gets 200 for
// the CANCEL and 487 for the INVITE, and the callee sees the CANCEL.
func TestSilentNextHop(t *testing.T) {
	const lifetime = 4 * time.Second
	p := startParleyd(t, "--sip-timeout", lifetime.String())
	for _, u := range []string{"alice", "carol", "dave", "erin"} {
		p.addUser(u, "secret")
	}
	gwPort := freePort(t)
	p.addRoute(t, "phone:+1", fmt.Sprintf("sip:127.0.0.1:%d", gwPort))
	gw := startSipp(t, p.sipAddr(), sipp{Name: "silent-gateway", Scenario: "route_gw_silent_message.xml",
		LocalPort: gwPort})
	carolCID, daveCID, erinCID := uniqueCallID(t), uniqueCallID(t), uniqueCallID(t)
	carol := startRegisteredUAS(t, p, "route_user_silent.xml", "carol", carolCID)
	erin := startRegisteredUAS(t, p, "route_user_silent.xml", "erin", erinCID)
	dave := startRegisteredUAS(t, p, "route_user_trying.xml", "dave", daveCID)

	callers := []struct {
		what     string
		s        sipp
		want     int // the final response to the INVITE or MESSAGE
		min, max time.Duration
	}{
		{"MESSAGE to a silent gateway", sipp{Name: "alice-msg-gw", Scenario: "route_uac_message.xml",
			Keys: map[string]string{"ruri": "tel:+15550100"}}, 504, lifetime - 500*time.Millisecond, lifetime + 3*time.Second},
		{"MESSAGE to a silent user", sipp{Name: "alice-msg-carol", Scenario: "route_uac_message.xml", CallID: carolCID,
			Keys: map[string]string{"ruri": "sip:carol@localhost"}}, 408, lifetime - 500*time.Millisecond, lifetime + 3*time.Second},
		{"INVITE to a silent user", sipp{Name: "alice-invite-erin", Scenario: "route_uac_invite_final.xml", CallID: erinCID,
			Keys: map[string]string{"ruri": "sip:erin@localhost"}}, 408, lifetime - 500*time.Millisecond, lifetime + 3*time.Second},
		{"INVITE answered only with 100, then CANCEL", sipp{Name: "alice-cancel-dave", Scenario: "route_uac_invite_cancel.xml",
			CallID: daveCID, Service: "dave"}, 487, 6 * time.Second, 10 * time.Second},
	}
	procs := make([]*sippProc, len(callers))
	for i, c := range callers {
		c.s.User, c.s.Password = "alice", "secret"
		procs[i] = startSipp(t, p.sipAddr(), c.s)
	}
	for i, c := range callers {
		run := procs[i]
		if err := run.wait(); err != nil {
			t.Errorf("%s: %v", c.what, err)
			continue
		}
		code, res := finalFor(run)
		took := run.finishedAt.Sub(run.started)
		if code != c.want {
			t.Errorf("%s: final response %d, want %d:\n%v", c.what, code, c.want, res)
		}
		if took < c.min || took > c.max {
			t.Errorf("%s: the call took %v, want %v..%v", c.what, took.Round(time.Millisecond), c.min, c.max)
		}
		t.Logf("%s: %d after %v", c.what, code, took.Round(time.Millisecond))
	}
	if code, _ := finalFor(procs[3]); code == 487 {
		// The 200 for the CANCEL is checked by the scenario itself.
		if n := countReceived(sippLog(dave.msgLog), "CANCEL"); n == 0 {
			t.Errorf("dave's phone (it sent only 100 Trying) never received the CANCEL: the proxy did not " +
				"propagate the caller's CANCEL, so its INVITE to dave stays pending (until timer C)")
		}
	}
	for _, u := range []struct {
		name string
		p    *sippProc
	}{{"silent gateway", gw}, {"carol", carol}, {"erin", erin}, {"dave (must see the CANCEL)", dave}} {
		if err := waitOrKill(u.p, 3*time.Second); err != nil {
			t.Errorf("%s: %v", u.name, err)
		}
	}
}

// received returns the requests a sipUA answered (not NOTIFYs of its
// subscriptions) with Call-ID callID.
func (ua *sipUA) received(callID string) []*sipMsg {
	ua.mu.Lock()
	defer ua.mu.Unlock()
	var out []*sipMsg
	for _, m := range ua.stray {
		if m.Header("Call-ID") == callID {
			out = append(out, m)
		}
	}
	return out
}

// TestRouteForgingAndIPDestination (--sip-timeout 4s): an initial request
// from a client loses the Route headers it brought (loose or strict), so
// it is routed normally, to the registered user, and never to the forged
// next hop (a UDP trap on 127.0.0.1, an IP the routing table names). A
// request for sip:x@127.0.0.2:PORT (an IP no route names), after its
// digest round, is dropped: no response at all for the transaction
// lifetime, nothing sent to that IP, and
// parley_sip_dropped_total{reason="ip_destination_not_allowed"} grows.
// (The brief's 10.0.0.99 and 10.255.255.1 are replaced by loopback traps so
// that a server bug cannot send packets off 127.0.0.0/8.)
func TestRouteForgingAndIPDestination(t *testing.T) {
	const lifetime = 4 * time.Second
	p := startParleyd(t, "--sip-timeout", lifetime.String())
	p.addUser("alice", "secret")
	p.addUser("bob", "secret")
	forged := newUDPTrap(t, "127.0.0.1")
	// The table names 127.0.0.1 (another port), so only the Route removal
	// stands between a forged Route and the trap.
	p.addRoute(t, "domain:example.net", fmt.Sprintf("sip:127.0.0.1:%d", freePort(t)))
	bob := newSipUA(t, p.sipAddr(), "bob", "secret")
	if res, err := bob.register(600); err != nil || res.Code != 200 {
		t.Fatalf("bob REGISTER: %v %v", res, err)
	}
	alice := newRawUA(t, p, "alice", "secret")

	for _, route := range []string{
		fmt.Sprintf("<sip:127.0.0.1:%d;lr>", forged.port),
		fmt.Sprintf("<sip:127.0.0.1:%d>", forged.port), // strict route
		fmt.Sprintf("<sip:127.0.0.1:%d;lr>, <sip:127.0.0.1:%d;lr>", forged.port, forged.port+1),
	} {
		r := rawReq{method: "MESSAGE", ruri: "sip:bob@localhost", headers: []string{"Route: " + route}, body: "forged route"}
		r.defaults("alice")
		res, err := alice.authed(r, 6*time.Second)
		if err != nil || res.final() == nil || res.final().Code != 200 {
			t.Errorf("MESSAGE to bob with Route: %s: want bob's 200, got %s (err %v)", route, res.summary(), err)
			continue
		}
		got := bob.received(r.callID)
		if len(got) == 0 {
			t.Errorf("Route: %s: bob never received the MESSAGE", route)
			continue
		}
		for _, h := range got[0].Headers("Route") {
			if strings.Contains(h, strconv.Itoa(forged.port)) {
				t.Errorf("Route: %s: bob's MESSAGE still carries the forged Route %q:\n%s", route, h, got[0].Raw)
			}
		}
	}
	time.Sleep(300 * time.Millisecond)
	if c := forged.caught(); len(c) > 0 {
		t.Errorf("the forged Route's next hop received %d datagrams, first:\n%s", len(c), c[0])
	}

	// An IP destination no route names: a MESSAGE and an INVITE at once,
	// from two sockets (the wait is the whole lifetime).
	ipTrap := newUDPTrap(t, "127.0.0.2")
	const sample = `parley_sip_dropped_total{reason="ip_destination_not_allowed"}`
	before := p.metric(t, sample)
	methods := []string{"MESSAGE", "INVITE"}
	results := make([]*rawResult, len(methods))
	errs := make([]error, len(methods))
	var wg sync.WaitGroup
	for i, method := range methods {
		ua := newRawUA(t, p, "alice", "secret")
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rawReq{method: method, ruri: fmt.Sprintf("sip:x@127.0.0.2:%d", ipTrap.port), body: "to an IP"}
			results[i], errs[i] = ua.authed(r, lifetime+1500*time.Millisecond)
		}()
	}
	wg.Wait()
	for i, method := range methods {
		res := results[i]
		if errs[i] != nil {
			t.Errorf("%s: %v", method, errs[i])
			continue
		}
		if res.challenge == nil {
			t.Errorf("%s: want a 407 first, got %s", method, res.summary())
			continue
		}
		// A dropped request gets no response, except that sipgo's
		// transaction layer answers every INVITE 100 Trying after 200 ms
		// (RFC 3261 16.2; docs/architecture.md, step 7).
		for _, r := range res.responses {
			if !(method == "INVITE" && r.Code == 100) {
				t.Errorf("%s %s (authenticated): want no response within the lifetime (%v + 1.5 s) but an INVITE's 100 Trying, got %s",
					method, res.req.ruri, lifetime, res.summary())
				break
			}
		}
	}
	if after := p.metric(t, sample); after != before+float64(len(methods)) {
		t.Errorf("%s went %v -> %v, want +%d", sample, before, after, len(methods))
	}
	if c := ipTrap.caught(); len(c) > 0 {
		t.Errorf("the IP destination received %d datagrams, first:\n%s", len(c), c[0])
	}
}

// TestMaxForwardsAndOversize: Max-Forwards 0 gets 483 (before any
// challenge); a forwarded request has Max-Forwards decremented, or 70
// added when it had none (RFC 3261 16.6 step 3). Bodies of at most 64 KiB
// are accepted (a 407 here: size checks come before authentication) over
// UDP and TCP; a larger body gets 413; a 70 KB header line (TCP: it cannot
// fit in a UDP datagram) gets 400 or 413.
func TestMaxForwardsAndOversize(t *testing.T) {
	p := startParleyd(t)
	p.addUser("alice", "secret")
	p.addUser("bob", "secret")
	bob := newSipUA(t, p.sipAddr(), "bob", "secret")
	if res, err := bob.register(600); err != nil || res.Code != 200 {
		t.Fatalf("bob REGISTER: %v %v", res, err)
	}
	alice := newRawUA(t, p, "alice", "secret")

	// Max-Forwards.
	res, err := alice.exchange(rawReq{method: "MESSAGE", ruri: "sip:bob@localhost", maxForwards: "0", body: "mf 0"}, "", 5*time.Second)
	if err != nil || res.final() == nil || res.final().Code != 483 {
		t.Errorf("Max-Forwards: 0: want 483, got %s (err %v)", res.summary(), err)
	}
	for _, tc := range []struct{ sent, want string }{{"3", "2"}, {"1", "0"}, {"-", "70"}} {
		r := rawReq{method: "MESSAGE", ruri: "sip:bob@localhost", maxForwards: tc.sent, body: "mf " + tc.sent}
		r.defaults("alice")
		res, err := alice.authed(r, 5*time.Second)
		if err != nil || res.final() == nil || res.final().Code != 200 {
			t.Errorf("Max-Forwards: %s: want bob's 200, got %s (err %v)", tc.sent, res.summary(), err)
			continue
		}
		if got := bob.received(r.callID); len(got) == 0 || got[0].Header("Max-Forwards") != tc.want {
			var raw string
			if len(got) > 0 {
				raw = got[0].Raw
			}
			t.Errorf("Max-Forwards: %s (\"-\": none): bob's copy should carry Max-Forwards: %s; got:\n%s", tc.sent, tc.want, raw)
		}
	}

	// Sizes. A body of n bytes; a 407 means the size was accepted.
	body := func(n int) string { return strings.Repeat("x", n) }
	udp, err := alice.exchange(rawReq{method: "MESSAGE", ruri: "sip:bob@localhost", body: body(40000)}, "", 4*time.Second)
	if err != nil || udp.final() == nil || udp.final().Code != 407 {
		t.Errorf("UDP MESSAGE with a 40,000-byte body (%d-byte datagram, under the 64 KiB body limit): want 407, got %s (err %v)",
			len(udp.sent), udp.summary(), err)
	}
	for _, tc := range []struct {
		what  string
		r     rawReq
		codes []int
	}{
		{"TCP MESSAGE with a 60,000-byte body", rawReq{body: body(60000)}, []int{407}},
		{"TCP MESSAGE with a 65,536-byte body (64 KiB, the documented limit)", rawReq{body: body(64 << 10)}, []int{407}},
		{"TCP MESSAGE with a 65,537-byte body", rawReq{body: body(64<<10 + 1)}, []int{413}},
		{"TCP MESSAGE with a 70,000-byte header line", rawReq{body: "hi", headers: []string{"X-Filler: " + body(70000)}}, []int{400, 413}},
	} {
		tc.r.method, tc.r.ruri = "MESSAGE", "sip:bob@localhost"
		msgs, how, err := tcpExchange(t, p, tc.r, 5*time.Second)
		if err != nil {
			t.Errorf("%s: %v", tc.what, err)
			continue
		}
		var codes []string
		final := 0
		for _, m := range msgs {
			codes = append(codes, fmt.Sprintf("%d %s", m.Code, m.Reason))
			if m.Code >= 200 {
				final = m.Code
			}
		}
		ok := false
		for _, c := range tc.codes {
			ok = ok || final == c
		}
		if !ok {
			t.Errorf("%s: want %v, got responses %q, then the wait ended: %s", tc.what, tc.codes, codes, how)
		} else {
			t.Logf("%s: %q (%s)", tc.what, codes, how)
		}
	}
	// The server still works after all that.
	res, err = alice.exchange(rawReq{method: "MESSAGE", ruri: "sip:bob@localhost", body: "still there?"}, "", 5*time.Second)
	if err != nil || res.final() == nil || res.final().Code != 407 {
		t.Errorf("a plain MESSAGE afterwards: want 407, got %s (err %v)", res.summary(), err)
	}
}
