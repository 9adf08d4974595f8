package node

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/config"
)

func TestNodeFloodProtectionBansASource(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) { c.FloodRate, c.FloodBurst, c.FloodBan = 5, 5, time.Minute })
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	dst, _ := net.ResolveUDPAddr("udp", n.sip)
	for i := 0; i < 20; i++ {
		msg := strings.ReplaceAll(rawRequest("OPTIONS", "sip:localhost", "", ""), "{port}", fmt.Sprint(port))
		if _, err := conn.WriteTo([]byte(strings.ReplaceAll(msg, "{id}", fmt.Sprint("f", i))), dst); err != nil {
			t.Fatal(err)
		}
	}
	answered := 0
	buf := make([]byte, 4096)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		if _, _, err := conn.ReadFrom(buf); err != nil {
			break
		}
		answered++
	}
	if answered == 0 || answered > 5 {
		t.Fatalf("%d of 20 flooding requests answered, want 1..5 (the burst)", answered)
	}
	if !strings.Contains(n.metrics(t), `parley_sip_dropped_total{reason="flood"}`) {
		t.Fatal("flood drops not counted")
	}
}

// TestNodeFloodSparesTrusted: flood protection is for client
// connections; the same burst over a trusted listener is all answered.
func TestNodeFloodSparesTrusted(t *testing.T) {
	trusted := freePort(t)
	self := fmt.Sprintf("127.0.0.1:%d", trusted)
	n := startNodeWith(t, func(c *config.Config) {
		c.FloodRate, c.FloodBurst, c.FloodBan = 5, 5, time.Minute
		c.SIPListen = append(c.SIPListen, "udp://"+self+"?trust=trusted")
	})
	gw := newRawUDP(t)
	_, port, _ := strings.Cut(gw.addr, ":")
	const count = 20
	for i := 0; i < count; i++ {
		msg := strings.ReplaceAll(rawRequest("OPTIONS", "sip:localhost", "", ""), "{port}", port)
		gw.send(t, self, strings.ReplaceAll(msg, "{id}", fmt.Sprint("t", i)))
	}
	for i := 0; i < count; i++ {
		gw.await(t, 5*time.Second, func(m sip.Message) bool { _, ok := m.(*sip.Response); return ok })
	}
	if strings.Contains(n.metrics(t), `reason="flood"`) {
		t.Fatal("a trusted source was flood-limited")
	}
}
