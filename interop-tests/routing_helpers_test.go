//go:build interop

package interop

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// addRoute adds a static route with parleyctl (extra: --trusted,
// --priority N).
func (p *parleyd) addRoute(t *testing.T, match, nextHop string, extra ...string) {
	t.Helper()
	if _, err := p.ctl(append([]string{"route", "add", match, nextHop}, extra...)...); err != nil {
		t.Fatal(err)
	}
}

// metric reads one sample from the admin /metrics (no token needed):
// name{labels} as written by Prometheus, e.g.
// `parley_sip_dropped_total{reason="ip_destination_not_allowed"}`. A
// sample not (yet) exported reads 0.
func (p *parleyd) metric(t *testing.T, sample string) float64 {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.adminPort))
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, sample+" "); ok {
			v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return v
		}
	}
	return 0
}

// sippLogged is one message of a sipp -trace_msg file.
type sippLogged struct {
	sent bool
	msg  *sipMsg
}

// sippLog parses a sipp -trace_msg file: blocks that start with a line of
// dashes and a timestamp, then "UDP message sent (N bytes):" or "UDP
// message received [N] bytes :", a blank line and the message.
func sippLog(path string) []sippLogged {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	var out []sippLogged
	for _, block := range strings.Split(text, "\n-----------------------------------------------") {
		_, block, _ = strings.Cut(block, "\n") // the rest of the dashes line (timestamp)
		kind, msg, ok := strings.Cut(block, "\n")
		if !ok || !strings.Contains(kind, "message") {
			continue
		}
		msg = strings.TrimLeft(msg, "\n")
		if !strings.Contains(msg, "\n\n") {
			msg += "\n\n"
		}
		m, err := parseSipMsg([]byte(strings.ReplaceAll(msg, "\n", "\r\n")))
		if err != nil {
			continue
		}
		out = append(out, sippLogged{sent: strings.Contains(kind, "sent"), msg: m})
	}
	return out
}

// countReceived counts the requests of method sipp received.
func countReceived(log []sippLogged, method string) int {
	n := 0
	for _, m := range log {
		if !m.sent && m.msg.Method == method {
			n++
		}
	}
	return n
}

// receivedFinals lists, per Call-ID in order of first appearance, the
// final (>= 200) response codes sipp received, each code once per CSeq.
func receivedFinals(log []sippLogged) (order []string, finals map[string][]*sipMsg) {
	finals = map[string][]*sipMsg{}
	seen := map[string]bool{}
	for _, m := range log {
		cid := m.msg.Header("Call-ID")
		if _, ok := finals[cid]; !ok {
			finals[cid] = nil
			order = append(order, cid)
		}
		if m.sent || !m.msg.IsResponse() || m.msg.Code < 200 {
			continue
		}
		key := fmt.Sprintf("%s|%s|%d", cid, m.msg.Header("CSeq"), m.msg.Code)
		if seen[key] {
			continue // a retransmission
		}
		seen[key] = true
		finals[cid] = append(finals[cid], m.msg)
	}
	return order, finals
}

// rawUA is a bare text-level UDP client on its own socket: one request at
// a time, every response collected (provisional ones too), a limit on
// every wait. sipUA answers requests and hides provisional responses;
// this one is for checking exactly what (if anything) comes back.
type rawUA struct {
	t              testing.TB
	user, password string
	server         *net.UDPAddr
	conn           *net.UDPConn
	local          string
}

func newRawUA(t testing.TB, p *parleyd, user, password string) *rawUA {
	t.Helper()
	srv, err := net.ResolveUDPAddr("udp", p.sipAddr())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawUA{t: t, user: user, password: password, server: srv, conn: conn, local: conn.LocalAddr().String()}
}

// rawReq is a request for rawUA (or tcpExchange); empty fields get
// defaults: From the UA's AOR with a tag, To the Request-URI, a fresh
// Call-ID, CSeq 1, Max-Forwards 70 (maxForwards "-" leaves it out).
type rawReq struct {
	method, ruri, from, to, callID string
	cseq                           int
	maxForwards                    string
	headers                        []string // "Name: value"
	contentType, body              string
}

func (r *rawReq) defaults(user string) {
	if r.from == "" {
		r.from = fmt.Sprintf("<sip:%s@%s>;tag=%s", user, domain, randHex(4))
	}
	if r.to == "" {
		r.to = "<" + r.ruri + ">"
	}
	if r.callID == "" {
		r.callID = "raw-" + randHex(8) + "@parley-interop"
	}
	if r.cseq == 0 {
		r.cseq = 1
	}
	if r.maxForwards == "" {
		r.maxForwards = "70"
	}
	if r.body != "" && r.contentType == "" {
		r.contentType = "text/plain"
	}
}

// text renders r with a Via for transport ("UDP", "TCP") from local.
func (r *rawReq) text(transport, local, branch, authorization string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s;rport\r\n", r.method, r.ruri, transport, local, branch)
	if r.maxForwards != "-" {
		fmt.Fprintf(&b, "Max-Forwards: %s\r\n", r.maxForwards)
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n", r.from, r.to, r.callID, r.cseq, r.method)
	for _, h := range r.headers {
		b.WriteString(h + "\r\n")
	}
	if authorization != "" {
		b.WriteString(authorization + "\r\n")
	}
	if r.contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", r.contentType)
	}
	fmt.Fprintf(&b, "User-Agent: parley-interop-raw\r\nContent-Length: %d\r\n\r\n%s", len(r.body), r.body)
	return b.String()
}

// rawResult is what one request got back.
type rawResult struct {
	req       rawReq
	challenge *sipMsg // the 401/407 answered before this request (authed)
	sent      string
	responses []*sipMsg // in arrival order, retransmissions included
	start     time.Time
	elapsed   time.Duration
}

// final is the first final response, or nil.
func (r *rawResult) final() *sipMsg {
	if r == nil {
		return nil
	}
	for _, m := range r.responses {
		if m.Code >= 200 {
			return m
		}
	}
	return nil
}

func (r *rawResult) summary() string {
	if r == nil {
		return "(nothing sent)"
	}
	var codes []string
	for _, m := range r.responses {
		codes = append(codes, fmt.Sprintf("%d %s at +%v", m.Code, m.Reason, m.Arrived.Sub(r.start).Round(time.Millisecond)))
	}
	if len(codes) == 0 {
		codes = []string{"no response"}
	}
	s := fmt.Sprintf("[%s] after %v for %s %s", strings.Join(codes, ", "), r.elapsed.Round(time.Millisecond), r.req.method, r.req.ruri)
	if f := r.final(); f != nil {
		s += "\n--- final response:\n" + f.Raw
	}
	return s
}

// exchange sends r (retransmitting like timer E: 500 ms doubling to 4 s,
// until a response arrives) and collects responses until a final one or
// limit; no final response is not an error (see rawResult.final).
func (ua *rawUA) exchange(r rawReq, authorization string, limit time.Duration) (*rawResult, error) {
	r.defaults(ua.user)
	branch := "z9hG4bK-raw-" + randHex(8)
	res := &rawResult{req: r, sent: r.text("UDP", ua.local, branch, authorization)}
	start := time.Now()
	res.start = start
	defer func() { res.elapsed = time.Since(start) }()
	deadline := start.Add(limit)
	interval, nextSend := 500*time.Millisecond, start
	buf := make([]byte, 65536)
	for time.Now().Before(deadline) {
		if len(res.responses) == 0 && !time.Now().Before(nextSend) {
			if _, err := ua.conn.WriteToUDP([]byte(res.sent), ua.server); err != nil {
				return res, err
			}
			nextSend = time.Now().Add(interval)
			interval = min(2*interval, 4*time.Second)
		}
		wait := deadline
		if len(res.responses) == 0 && nextSend.Before(wait) {
			wait = nextSend
		}
		_ = ua.conn.SetReadDeadline(wait)
		n, _, err := ua.conn.ReadFromUDP(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return res, err
		}
		m, err := parseSipMsg(buf[:n])
		if err != nil || !m.IsResponse() || m.Branch() != branch {
			continue
		}
		m.Arrived = time.Now()
		res.responses = append(res.responses, m)
		if m.Code >= 200 {
			if r.method == "INVITE" && m.Code >= 300 { // ACK for a non-2xx: hop by hop, same branch
				ack := fmt.Sprintf("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d ACK\r\nContent-Length: 0\r\n\r\n",
					r.ruri, ua.local, branch, r.from, m.Header("To"), r.callID, r.cseq)
				_, _ = ua.conn.WriteToUDP([]byte(ack), ua.server)
			}
			return res, nil
		}
	}
	return res, nil
}

// authed sends r; a 401/407 is answered once with MD5 digest credentials
// (CSeq + 1, same Call-ID and From tag). It returns the last exchange.
func (ua *rawUA) authed(r rawReq, limit time.Duration) (*rawResult, error) {
	r.defaults(ua.user)
	res, err := ua.exchange(r, "", limit)
	if err != nil {
		return res, err
	}
	f := res.final()
	if f == nil || (f.Code != 401 && f.Code != 407) {
		return res, nil
	}
	hdr, name := "WWW-Authenticate", "Authorization"
	if f.Code == 407 {
		hdr, name = "Proxy-Authenticate", "Proxy-Authorization"
	}
	cred, err := digestAnswer(f.Header(hdr), r.method, r.ruri, ua.user, ua.password)
	if err != nil {
		return res, fmt.Errorf("%s: %v in %q", hdr, err, f.Header(hdr))
	}
	r.cseq++
	res, err = ua.exchange(r, name+": "+cred, limit)
	if res != nil {
		res.challenge = f
	}
	return res, err
}

// tcpExchange sends one request over a new TCP connection to parleyd and
// reads until a final response, the connection's end or limit. It returns
// the responses and how the wait ended ("final", "closed", "timeout").
func tcpExchange(t testing.TB, p *parleyd, r rawReq, limit time.Duration) ([]*sipMsg, string, error) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", p.sipAddr(), 2*time.Second)
	if err != nil {
		return nil, "", err
	}
	defer conn.Close()
	r.defaults("alice")
	msg := r.text("TCP", conn.LocalAddr().String(), "z9hG4bK-tcp-"+randHex(8), "")
	_ = conn.SetDeadline(time.Now().Add(limit))
	if _, err := io.WriteString(conn, msg); err != nil {
		// The server may close the connection while we are still writing.
		return nil, "write: " + err.Error(), nil
	}
	var out []*sipMsg
	br := bufio.NewReaderSize(conn, 1<<17)
	for {
		m, err := readStreamMsg(br)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return out, "timeout", nil
			}
			return out, "closed (" + err.Error() + ")", nil
		}
		out = append(out, m)
		if m.Code >= 200 {
			return out, "final", nil
		}
	}
}

// readStreamMsg reads one SIP message from a stream (headers up to the
// blank line, then Content-Length bytes).
func readStreamMsg(br *bufio.Reader) (*sipMsg, error) {
	var head strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if head.Len() == 0 && strings.TrimSpace(line) == "" {
			continue // keep-alive CRLFs
		}
		head.WriteString(line)
		if line == "\r\n" || line == "\n" {
			break
		}
	}
	m, err := parseSipMsg([]byte(head.String()))
	if err != nil {
		return nil, err
	}
	if cl, _ := strconv.Atoi(m.Header("Content-Length")); cl > 0 {
		body := make([]byte, cl)
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, err
		}
		m.Body = string(body)
		m.Raw += string(body)
	}
	return m, nil
}

// udpTrap is a UDP socket on ip that records every datagram: a next hop
// that must never be used.
type udpTrap struct {
	conn *net.UDPConn
	port int
	got  chan string
}

func newUDPTrap(t testing.TB, ip string) *udpTrap {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatalf("trap on %s: %v", ip, err)
	}
	tr := &udpTrap{conn: conn, port: conn.LocalAddr().(*net.UDPAddr).Port, got: make(chan string, 64)}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			select {
			case tr.got <- fmt.Sprintf("from %v:\n%s", from, buf[:n]):
			default:
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return tr
}

// caught returns what the trap received so far.
func (tr *udpTrap) caught() []string {
	var out []string
	for {
		select {
		case s := <-tr.got:
			out = append(out, s)
		default:
			return out
		}
	}
}

// waitOrKill waits for a sipp at most limit more, then kills it (its
// process group) and reports where it was stuck.
func waitOrKill(p *sippProc, limit time.Duration) error {
	select {
	case <-p.done:
		return p.wait()
	case <-time.After(limit):
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	return fmt.Errorf("sipp %s (%s) still running %v after the test's callers finished; killed. Messages (tail):\n%s",
		p.s.Name, p.s.Scenario, limit, tailFile(p.msgLog, 3<<10))
}

// staticRoute is an entry of `parleyctl route list -o json`.
type staticRoute struct {
	ID       string `json:"id"`
	Match    string `json:"match"`
	NextHop  string `json:"next_hop"`
	Trusted  bool   `json:"trusted"`
	Priority int    `json:"priority"`
}

func (p *parleyd) routes(t *testing.T) []staticRoute {
	t.Helper()
	out, err := p.ctl("route", "list", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rs []staticRoute
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatalf("route list -o json: %v in %q", err, out)
	}
	return rs
}
