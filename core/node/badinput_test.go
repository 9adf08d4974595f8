package node

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// rawRequest is a request with every header a proxy needs, to be spoiled.
func rawRequest(method, uri string, extra string, drop string) string {
	hdrs := []string{
		"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{id}",
		"From: <sip:alice@localhost>;tag=f{id}",
		"To: <sip:bob@localhost>",
		"Call-ID: bad-{id}",
		"CSeq: 1 " + method,
		"Max-Forwards: 70",
	}
	var b strings.Builder
	b.WriteString(method + " " + uri + " SIP/2.0\r\n")
	for _, h := range hdrs {
		if drop != "" && strings.HasPrefix(h, drop+":") {
			continue
		}
		b.WriteString(h + "\r\n")
	}
	if extra != "" {
		b.WriteString(extra + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

func TestNodeBadInput(t *testing.T) {
	n := startNode(t)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	dst, _ := net.ResolveUDPAddr("udp", n.sip)
	exchange := func(i int, msg string) string {
		msg = strings.ReplaceAll(msg, "{port}", fmt.Sprint(port))
		msg = strings.ReplaceAll(msg, "{id}", fmt.Sprint(i))
		msg = strings.ReplaceAll(msg, "{self}", n.sip)
		if _, err := conn.WriteTo([]byte(msg), dst); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		nr, _, err := conn.ReadFrom(buf)
		if err != nil {
			return "" // dropped
		}
		line, _, _ := strings.Cut(string(buf[:nr]), "\r\n")
		return line
	}
	before := runtime.NumGoroutine()
	cases := []struct {
		name, msg, want string
	}{
		{"garbage", "\x00\x01hello there\r\n\r\n", ""},
		{"no call-id", rawRequest("OPTIONS", "sip:bob@localhost", "", "Call-ID"), "SIP/2.0 400"},
		{"no from", rawRequest("MESSAGE", "sip:bob@localhost", "", "From"), "SIP/2.0 400"},
		{"cseq method mismatch", strings.Replace(rawRequest("MESSAGE", "sip:bob@localhost", "", ""), "CSeq: 1 MESSAGE", "CSeq: 1 INVITE", 1), "SIP/2.0 400"},
		{"max-forwards zero", strings.Replace(rawRequest("MESSAGE", "sip:bob@localhost", "", ""), "Max-Forwards: 70", "Max-Forwards: 0", 1), "SIP/2.0 483"},
		{"proxy-require", rawRequest("MESSAGE", "sip:bob@localhost", "Proxy-Require: teleport", ""), "SIP/2.0 420"},
		{"no via", rawRequest("MESSAGE", "sip:bob@localhost", "", "Via"), "SIP/2.0 400"},
		{"unmatched cancel", rawRequest("CANCEL", "sip:bob@localhost", "", ""), "SIP/2.0 481"},
		{"bad digest", rawRequest("MESSAGE", "sip:bob@localhost", `Proxy-Authorization: Digest username="alice", realm=`, ""), "SIP/2.0 400"},
		{"foreign domain", rawRequest("MESSAGE", "sip:bob@example.net", "", ""), "SIP/2.0 407"},
		{"options to server", rawRequest("OPTIONS", "sip:localhost", "", ""), "SIP/2.0 407"},
		{"register other domain", rawRequest("REGISTER", "sip:example.net", "", ""), "SIP/2.0 401"},
		{"loop", strings.Replace(rawRequest("MESSAGE", "sip:bob@localhost", "", ""), "Max-Forwards: 70",
			"Max-Forwards: 70\r\nVia: SIP/2.0/UDP {self};branch=z9hG4bKa\r\nVia: SIP/2.0/UDP {self};branch=z9hG4bKb\r\nVia: SIP/2.0/UDP {self};branch=z9hG4bKc", 1), "SIP/2.0 482"},
	}
	for i, tc := range cases {
		got := exchange(i, tc.msg)
		if !strings.HasPrefix(got, tc.want) || (tc.want == "" && got != "") {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	// Still serving, and the requests left nothing running behind.
	if got := exchange(100, rawRequest("CANCEL", "sip:bob@localhost", "", "")); !strings.HasPrefix(got, "SIP/2.0 481") {
		t.Fatalf("node stopped answering: %q", got)
	}
	deadline := time.Now().Add(40 * time.Second)
	for runtime.NumGoroutine() > before+5 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before+5 {
		t.Errorf("goroutines %d after bad input, %d before", g, before)
	}
}
