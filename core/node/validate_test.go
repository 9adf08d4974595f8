package node

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// validationPath is one way a request reaches the pipeline.
type validationPath struct {
	name      string
	network   string // udp or tcp
	method    string
	challenge string // what the valid request gets: the proof it reached the challenge
	extra     string // headers that steer it onto its path
}

// validationPaths: the stateless challenge (UDP, no credentials), the
// direct path (UDP, credentials with a nonce we never gave: a 407), an
// INVITE through sipgo's transaction, and TCP.
var validationPaths = []validationPath{
	{"udp stateless challenge", "udp", "MESSAGE", "407", ""},
	{"udp direct path", "udp", "MESSAGE", "407", `Proxy-Authorization: Digest username="alice", realm="localhost", nonce="bogus", uri="sip:bob@localhost", response="00000000000000000000000000000000", algorithm=MD5` + "\r\n"},
	{"udp invite transaction", "udp", "INVITE", "407", ""},
	{"tcp", "tcp", "MESSAGE", "407", ""},
	{"tcp register", "tcp", "REGISTER", "401", ""},
	{"udp register stateless", "udp", "REGISTER", "401", ""},
}

// validationRequest builds path's request, changed by check, from
// local to the node at self.
func validationRequest(path validationPath, check, local, self string, id int) string {
	ver, uri, cseq, mf, extra := "SIP/2.0", "sip:bob@localhost", path.method, "70", path.extra
	if path.method == "REGISTER" {
		uri = "sip:localhost"
	}
	switch check {
	case "version":
		ver = "SIP/7.0"
	case "cseq":
		cseq = map[bool]string{true: "OPTIONS", false: "INVITE"}[path.method == "INVITE"]
	case "proxy-require":
		extra += "Proxy-Require: noodles\r\n"
	case "require":
		extra += "Require: nothing\r\n"
	case "max-forwards":
		mf = "0"
	case "scheme":
		uri = "xyz:bob@localhost"
	case "loop":
		for i := 0; i < 3; i++ {
			extra += fmt.Sprintf("Via: SIP/2.0/%s %s;branch=z9hG4bK-loop%d\r\n", strings.ToUpper(path.network), self, i)
		}
	}
	return fmt.Sprintf("%s %s %s\r\n"+
		"Via: SIP/2.0/%s %s;rport;branch=z9hG4bK-v%d\r\n%s"+
		"Max-Forwards: %s\r\nFrom: <sip:alice@localhost>;tag=v%d\r\nTo: <sip:bob@localhost>\r\n"+
		"Call-ID: valid-%d\r\nCSeq: 1 %s\r\nContact: <sip:alice@%s>\r\nContent-Length: 0\r\n\r\n",
		path.method, uri, ver, strings.ToUpper(path.network), local, id, extra, mf, id, id, cseq, local)
}

// exchangeFinal sends msg on conn and returns the status line of every
// response up to the first final one (1s for each).
func exchangeFinal(t *testing.T, conn net.Conn, msg string) []string {
	t.Helper()
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	var lines []string
	rd := bufio.NewReader(conn)
	for len(lines) < 5 {
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		var line string
		if conn.LocalAddr().Network() == "udp" {
			buf := make([]byte, 65535)
			n, err := conn.Read(buf)
			if err != nil {
				return lines
			}
			line, _, _ = strings.Cut(string(buf[:n]), "\r\n")
		} else {
			var err error
			if line, err = readResponse(rd); err != nil {
				return lines
			}
		}
		lines = append(lines, line)
		if f := strings.Fields(line); len(f) > 1 && !strings.HasPrefix(f[1], "1") {
			return lines
		}
	}
	return lines
}

// readResponse reads one response from a stream and returns its status
// line.
func readResponse(rd *bufio.Reader) (string, error) {
	status, length := "", 0
	for {
		l, err := rd.ReadString('\n')
		if err != nil {
			return "", err
		}
		l = strings.TrimRight(l, "\r\n")
		if status == "" {
			status = l
			continue
		}
		if l == "" {
			break
		}
		if k, v, ok := strings.Cut(l, ":"); ok && (strings.EqualFold(k, "Content-Length") || strings.EqualFold(k, "l")) {
			fmt.Sscan(strings.TrimSpace(v), &length)
		}
	}
	_, err := rd.Discard(length)
	return status, err
}

// TestNodeValidatesBeforeChallenge: every RFC 3261 8.2/16.3 check
// answers before any digest challenge on every path a request takes (the
// valid request gets the challenge, which proves the path), and the
// answer says SIP/2.0 even to SIP/7.0.
func TestNodeValidatesBeforeChallenge(t *testing.T) {
	n := startNode(t)
	checks := []struct{ check, want string }{
		{"valid", ""},
		{"version", "505"},
		{"cseq", "400"},
		{"proxy-require", "420"},
		{"max-forwards", "483"},
		{"scheme", "416"},
		{"loop", "482"},
		{"require", ""}, // the next hop's business, but REGISTER's is ours
	}
	id := 0
	for _, path := range validationPaths {
		t.Run(path.name, func(t *testing.T) {
			conn, err := net.Dial(path.network, n.sip)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, c := range checks {
				want := c.want
				if want == "" {
					want = path.challenge
				}
				if c.check == "require" && path.method == "REGISTER" {
					want = "420"
				}
				id++
				got := exchangeFinal(t, conn, validationRequest(path, c.check, conn.LocalAddr().String(), n.sip, id))
				if len(got) == 0 {
					t.Errorf("%s: no answer, want %s", c.check, want)
					continue
				}
				final := got[len(got)-1]
				if !strings.HasPrefix(final, "SIP/2.0 "+want+" ") {
					t.Errorf("%s: %q, want SIP/2.0 %s", c.check, got, want)
				}
				for _, l := range got[:len(got)-1] {
					if strings.Contains(l, " 401 ") || strings.Contains(l, " 407 ") {
						t.Errorf("%s: challenged first: %q", c.check, got)
					}
				}
			}
		})
	}
}
