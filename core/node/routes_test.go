package node

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/config"
)

// message sends a MESSAGE to ruri from user's UA without answering a
// challenge, and returns the final response (nil when none came).
func (a *ua) rawMessage(t *testing.T, n *testNode, from, ruri string, wait time.Duration) *sip.Response {
	t.Helper()
	var u sip.Uri
	if err := sip.ParseUri(ruri, &u); err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(sip.MESSAGE, u)
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: from, Host: "localhost"}, Params: tagParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
	req.SetBody([]byte("via " + from))
	req.SetDestination(n.sip)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	res, err := a.client.Do(ctx, req)
	if err != nil {
		return nil
	}
	return res
}

func TestNodeStaticRoutesAndTrustedGateway(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) { c.SIPTimeout = 2 * time.Second })
	n.addUser(t, "alice", "pw-alice")
	alice, gw, stranger := newUA(t, "alice"), newUA(t, "gw"), newUA(t, "stranger")
	alice.register(t, n, "alice", "pw-alice")
	n.adminCall(t, "POST", "/v1/routes", map[string]any{"id": "pstn", "match": "phone:+1", "trusted": true,
		"next_hop": fmt.Sprintf("sip:127.0.0.1:%d", gw.port)}, 201)
	n.adminCall(t, "POST", "/v1/routes", map[string]any{"id": "dead", "match": "phone:+2",
		"next_hop": fmt.Sprintf("sip:127.0.0.1:%d", freePort(t))}, 201)
	n.adminCall(t, "POST", "/v1/routes", map[string]any{"match": "phone:12x", "next_hop": "sip:gw"}, 400)

	// A number goes to the gateway of its prefix, Request-URI intact.
	if res := alice.message(t, n, "alice", "+15550100;user=phone", "pw-alice"); res.StatusCode != 200 {
		t.Fatalf("to the gateway: %d", res.StatusCode)
	}
	select {
	case req := <-gw.got:
		if req.Recipient.User != "+15550100" {
			t.Fatalf("gateway got Request-URI %s", req.Recipient.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("gateway got nothing")
	}
	// The trusted gateway reaches alice without a challenge; a stranger is challenged.
	if res := gw.rawMessage(t, n, "+15550100", "sip:alice@localhost", 5*time.Second); res == nil || res.StatusCode != 200 {
		t.Fatalf("from the trusted gateway: %v", res)
	}
	if res := stranger.rawMessage(t, n, "+15550100", "sip:alice@localhost", 5*time.Second); res == nil || res.StatusCode != 407 {
		t.Fatalf("from a stranger: %v", res)
	}
	// A gateway that never answers: 504 after the transaction lifetime.
	// sipgo's timers are process-wide, so an in-process client would give
	// up as early as the proxy: ask from a raw socket, made a trusted hop.
	raw, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rawPort := raw.LocalAddr().(*net.UDPAddr).Port
	n.adminCall(t, "POST", "/v1/routes", map[string]any{"id": "rawgw", "match": "phone:+3", "trusted": true,
		"next_hop": fmt.Sprintf("sip:127.0.0.1:%d", rawPort)}, 201)
	msg := strings.ReplaceAll(rawRequest("MESSAGE", "sip:+25550100@localhost;user=phone", "", ""), "{port}", fmt.Sprint(rawPort))
	msg = strings.ReplaceAll(msg, "{id}", "silent")
	dst, _ := net.ResolveUDPAddr("udp", n.sip)
	if _, err := raw.WriteTo([]byte(msg), dst); err != nil {
		t.Fatal(err)
	}
	final := ""
	buf := make([]byte, 4096)
	for deadline := time.Now().Add(10 * time.Second); final == "" && time.Now().Before(deadline); {
		_ = raw.SetReadDeadline(deadline)
		nr, _, err := raw.ReadFrom(buf)
		if err != nil {
			break
		}
		if line, _, _ := strings.Cut(string(buf[:nr]), "\r\n"); !strings.HasPrefix(line, "SIP/2.0 1") {
			final = line
		}
	}
	if !strings.HasPrefix(final, "SIP/2.0 504") {
		t.Fatalf("silent gateway: %q", final)
	}
	// An authenticated client may not send to an IP the table does not
	// name: the request is dropped (no answer) and counted.
	var ip sip.Uri
	_ = sip.ParseUri("sip:x@10.255.255.1", &ip)
	req := sip.NewRequest(sip.MESSAGE, ip)
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "localhost"}, Params: tagParams()})
	req.SetDestination(n.sip)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	res, err := alice.client.Do(ctx, req)
	if err != nil || res.StatusCode != 407 {
		t.Fatalf("IP destination, first try: %v %v", res, err)
	}
	if res, err := alice.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "alice", Password: "pw-alice"}); err == nil {
		t.Fatalf("IP destination from a client answered %d", res.StatusCode)
	}
	if !strings.Contains(n.metrics(t), `parley_sip_dropped_total{reason="ip_destination_not_allowed"} 1`) {
		t.Fatal("dropped request not counted")
	}
}

// metrics returns the node's Prometheus text.
func (n *testNode) metrics(t *testing.T) string {
	t.Helper()
	res, err := http.Get(n.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}
