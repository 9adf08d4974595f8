//go:build interop

package interop

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTortureValidation: RFC 4475's 3.1.2.16 (SIP/7.0), 3.1.2.17
// (start line and CSeq method mismatch) and 3.3.5 (Proxy-Require:
// noodles), as the RFC writes them (testdata/torture), sent raw over UDP
// and TCP to a real parleyd get 505, 400 and 420 (with Unsupported:
// noodles), in SIP/2.0 and with no challenge first.
func TestTortureValidation(t *testing.T) {
	p := startParleyd(t)
	for _, tc := range []struct{ file, want, header string }{
		{"vers505.sip", "505", ""},
		{"mismatch01.sip", "400", ""},
		{"bext01.sip", "420", "noodles"},
	} {
		raw, err := os.ReadFile(filepath.Join("testdata", "torture", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		msg := strings.ReplaceAll(string(raw), "\n", "\r\n") // the RFC prints LF; the wire has CRLF
		for _, network := range []string{"udp", "tcp"} {
			// A socket of its own each: the three share one branch, and
			// the same method, branch and source is a retransmission.
			got := sendTorture(t, network, p.sipAddr(), msg)
			if len(got) == 0 {
				t.Errorf("%s over %s: no answer, want %s", tc.file, network, tc.want)
				continue
			}
			status, _, _ := strings.Cut(got[0], "\r\n")
			if len(got) != 1 || !strings.HasPrefix(status, "SIP/2.0 "+tc.want+" ") {
				t.Errorf("%s over %s: got %d responses, first %q; want one SIP/2.0 %s", tc.file, network, len(got), status, tc.want)
				continue
			}
			if tc.header != "" {
				if u := headerValue(got[0], "Unsupported"); !strings.Contains(u, tc.header) {
					t.Errorf("%s over %s: Unsupported %q, want %q", tc.file, network, u, tc.header)
				}
			}
		}
	}
}

// sendTorture sends msg from a fresh socket and returns every response
// that arrives within a second (no challenge may come first, nor any
// second answer).
func sendTorture(t *testing.T, network, addr, msg string) []string {
	t.Helper()
	conn, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	var out []string
	deadline := time.Now().Add(time.Second)
	_ = conn.SetReadDeadline(deadline)
	if network == "udp" {
		buf := make([]byte, 65535)
		for len(out) < 4 {
			n, err := conn.Read(buf)
			if err != nil {
				return out
			}
			out = append(out, string(buf[:n]))
		}
		return out
	}
	rd := bufio.NewReader(conn)
	for len(out) < 4 {
		var b strings.Builder
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return out
			}
			b.WriteString(line)
			if line == "\r\n" {
				break
			}
		}
		out = append(out, b.String()) // our answers carry no body
	}
	return out
}

// headerValue is the value of the first header called name in a raw
// message ("" when absent).
func headerValue(msg, name string) string {
	for _, line := range strings.Split(msg, "\r\n")[1:] {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
