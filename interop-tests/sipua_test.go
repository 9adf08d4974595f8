//go:build interop

package interop

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/parley-rtc/parley/core/auth"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// sipUA is a deliberately small SIP user agent over one UDP socket, for the
// presence tests that need more control than a sipp scenario gives (many
// NOTIFYs in any order, conditions decided by the test): it sends
// REGISTER, PUBLISH and SUBSCRIBE, answers each 401/407 once with an MD5
// digest, retransmits like RFC 3261's timer E (500 ms doubling, 4 s cap)
// for at most uaTxTimeout, and answers every incoming NOTIFY itself (200,
// or the status set with notifyStatus), handing it to the subscription
// with its Call-ID. Everything is text: the test sees exactly what parleyd
// sent.
type sipUA struct {
	t              testing.TB
	user, password string
	server         *net.UDPAddr
	conn           *net.UDPConn
	local          string // ip:port of conn

	mu       sync.Mutex
	waiting  map[string]chan *sipMsg // client transactions by Via branch
	dialogs  map[string]chan *sipMsg // NOTIFYs by Call-ID
	answered map[string]string       // responses sent, by request branch (retransmissions)
	status   map[string]int          // NOTIFY status by Call-ID (default 200)
	stray    []*sipMsg               // requests for no known dialog
	done     chan struct{}
}

const uaTxTimeout = 8 * time.Second

// newSipUA opens a UDP socket on 127.0.0.1 for user and starts reading.
func newSipUA(t testing.TB, server, user, password string) *sipUA {
	t.Helper()
	srv, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ua := &sipUA{t: t, user: user, password: password, server: srv, conn: conn, local: conn.LocalAddr().String(),
		waiting: map[string]chan *sipMsg{}, dialogs: map[string]chan *sipMsg{}, answered: map[string]string{},
		status: map[string]int{}, done: make(chan struct{})}
	go ua.read()
	t.Cleanup(ua.close)
	return ua
}

func (ua *sipUA) close() {
	select {
	case <-ua.done:
	default:
		close(ua.done)
		ua.conn.Close()
	}
}

func (ua *sipUA) aor() string { return fmt.Sprintf("sip:%s@%s", ua.user, domain) }

func (ua *sipUA) contact() string { return fmt.Sprintf("<sip:%s@%s>", ua.user, ua.local) }

func (ua *sipUA) read() {
	buf := make([]byte, 65536)
	for {
		n, from, err := ua.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		m, err := parseSipMsg(buf[:n])
		if err != nil {
			ua.t.Logf("%s: unparsable datagram from %v: %v\n%s", ua.user, from, err, buf[:n])
			continue
		}
		m.arrived = time.Now()
		if m.isResponse() {
			ua.mu.Lock()
			ch := ua.waiting[m.branch()]
			ua.mu.Unlock()
			if ch != nil {
				select {
				case ch <- m:
				default:
				}
			}
			continue
		}
		ua.serve(m, from)
	}
}

// serve answers an incoming request and hands NOTIFYs to their dialog.
func (ua *sipUA) serve(m *sipMsg, from *net.UDPAddr) {
	br := m.branch()
	ua.mu.Lock()
	if prev, ok := ua.answered[br]; ok { // a retransmission
		ua.mu.Unlock()
		_, _ = ua.conn.WriteToUDP([]byte(prev), from)
		return
	}
	callID := m.header("Call-ID")
	code, reason := 200, "OK"
	if s, ok := ua.status[callID]; ok && m.method == "NOTIFY" {
		code, reason = s, "Test Says So"
	}
	ch := ua.dialogs[callID]
	var res strings.Builder
	fmt.Fprintf(&res, "SIP/2.0 %d %s\r\n", code, reason)
	for _, v := range m.headers("Via") {
		fmt.Fprintf(&res, "Via: %s\r\n", v)
	}
	to := m.header("To")
	if !strings.Contains(to, "tag=") {
		to += ";tag=ua" + randHex(4)
	}
	fmt.Fprintf(&res, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
		m.header("From"), to, callID, m.header("CSeq"))
	ua.answered[br] = res.String()
	if ch == nil || m.method != "NOTIFY" {
		ua.stray = append(ua.stray, m)
	}
	ua.mu.Unlock()
	_, _ = ua.conn.WriteToUDP([]byte(res.String()), from)
	if ch != nil && m.method == "NOTIFY" {
		select {
		case ch <- m:
		default:
			ua.t.Logf("%s: NOTIFY queue of %s full, dropped:\n%s", ua.user, callID, m.raw)
		}
	}
}

// notifyStatus makes the UA answer NOTIFYs of callID with code.
func (ua *sipUA) notifyStatus(callID string, code int) {
	ua.mu.Lock()
	ua.status[callID] = code
	ua.mu.Unlock()
}

// outReq is a request to send; the UA adds Via, Max-Forwards, Content-Length
// and, after a challenge, the credentials.
type outReq struct {
	method, ruri       string
	from, to, callID   string // From and To with their tags if any
	cseq               int
	headers            []string // "Name: value"
	contentType, body  string
	noAuth             bool // return 401/407 instead of answering them
	authorizationValue string
}

func (r *outReq) text(via string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n",
		r.method, r.ruri, via, r.from, r.to, r.callID, r.cseq, r.method)
	for _, h := range r.headers {
		b.WriteString(h + "\r\n")
	}
	if r.authorizationValue != "" {
		b.WriteString(r.authorizationValue + "\r\n")
	}
	if r.contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", r.contentType)
	}
	fmt.Fprintf(&b, "User-Agent: parley-interop-ua\r\nContent-Length: %d\r\n\r\n%s", len(r.body), r.body)
	return b.String()
}

// send runs one client transaction (plus one digest round) and returns the
// final response; r.cseq is advanced past what was used.
func (ua *sipUA) send(r *outReq) (*sipMsg, error) {
	res, err := ua.transaction(r)
	if err != nil || r.noAuth || (res.code != 401 && res.code != 407) {
		return res, err
	}
	hdr, name := "WWW-Authenticate", "Authorization"
	if res.code == 407 {
		hdr, name = "Proxy-Authenticate", "Proxy-Authorization"
	}
	cred, err := digestAnswer(res.header(hdr), r.method, r.ruri, ua.user, ua.password)
	if err != nil {
		return res, fmt.Errorf("%s: %v in %q", hdr, err, res.header(hdr))
	}
	r.authorizationValue = name + ": " + cred
	return ua.transaction(r)
}

func (ua *sipUA) transaction(r *outReq) (*sipMsg, error) {
	branch := "z9hG4bK-ua-" + randHex(8)
	ch := make(chan *sipMsg, 16)
	ua.mu.Lock()
	ua.waiting[branch] = ch
	ua.mu.Unlock()
	defer func() {
		ua.mu.Lock()
		delete(ua.waiting, branch)
		ua.mu.Unlock()
	}()
	msg := []byte(r.text(fmt.Sprintf("SIP/2.0/UDP %s;branch=%s;rport", ua.local, branch)))
	deadline := time.After(uaTxTimeout)
	interval := 500 * time.Millisecond
	retrans := time.NewTimer(interval)
	defer retrans.Stop()
	provisional := false
	for {
		if !provisional || r.method == "INVITE" {
			if _, err := ua.conn.WriteToUDP(msg, ua.server); err != nil {
				return nil, err
			}
		}
		for again := false; !again; {
			select {
			case m := <-ch:
				if m.code >= 200 {
					r.cseq++
					return m, nil
				}
				provisional = true
			case <-retrans.C:
				interval = min(2*interval, 4*time.Second)
				retrans.Reset(interval)
				again = true
			case <-deadline:
				return nil, fmt.Errorf("%s %s: no final response within %v", r.method, r.ruri, uaTxTimeout)
			case <-ua.done:
				return nil, errors.New("UA closed")
			}
		}
	}
}

// register binds this UA's address for expires seconds.
func (ua *sipUA) register(expires int) (*sipMsg, error) {
	return ua.send(&outReq{method: "REGISTER", ruri: "sip:" + domain,
		from: fmt.Sprintf("<%s>;tag=%s", ua.aor(), randHex(4)), to: "<" + ua.aor() + ">",
		callID: "reg-" + randHex(8) + "@" + ua.local, cseq: 1,
		headers: []string{"Contact: " + ua.contact(), fmt.Sprintf("Expires: %d", expires)}})
}

// publish sends a PUBLISH for the UA's own presence; etag (SIP-If-Match),
// body and expires (-1: no Expires header) as given.
func (ua *sipUA) publish(body, etag string, expires int) (*sipMsg, error) {
	r := &outReq{method: "PUBLISH", ruri: ua.aor(), from: fmt.Sprintf("<%s>;tag=%s", ua.aor(), randHex(4)),
		to: "<" + ua.aor() + ">", callID: "pub-" + randHex(8) + "@" + ua.local, cseq: 1,
		headers: []string{"Event: presence"}, body: body}
	if body != "" {
		r.contentType = "application/pidf+xml"
	}
	if etag != "" {
		r.headers = append(r.headers, "SIP-If-Match: "+etag)
	}
	if expires >= 0 {
		r.headers = append(r.headers, fmt.Sprintf("Expires: %d", expires))
	}
	return ua.send(r)
}

// mustPublish publishes and fails the test unless the answer is 200 with
// an ETag, which it returns.
func (ua *sipUA) mustPublish(body, etag string, expires int) string {
	ua.t.Helper()
	res, err := ua.publish(body, etag, expires)
	if err != nil {
		ua.t.Fatalf("%s PUBLISH: %v", ua.user, err)
	}
	if res.code != 200 || (expires != 0 && res.header("SIP-ETag") == "") {
		ua.t.Fatalf("%s PUBLISH: want 200 with SIP-ETag, got:\n%s", ua.user, res.raw)
	}
	return res.header("SIP-ETag")
}

// subscription is the watcher side of one SUBSCRIBE dialog.
type subscription struct {
	ua                  *sipUA
	event               string
	callID, from, to    string // From/To with tags (To's tag once the 200 came)
	remote              string // the notifier's Contact URI (the request URI of refreshes)
	cseq                int
	extra               []string
	notifies            chan *sipMsg
	seen                []*sipMsg // every NOTIFY taken from notifies
	lastRes, initial200 *sipMsg
}

// subscribe starts a subscription to target (a URI) for event; extra
// headers are added to the SUBSCRIBE and its refreshes. The final response
// is returned whatever it is; the subscription is usable when it is 2xx.
func (ua *sipUA) subscribe(target, event string, expires int, extra ...string) (*subscription, *sipMsg, error) {
	s := &subscription{ua: ua, event: event, callID: "sub-" + randHex(8) + "@" + ua.local,
		from: fmt.Sprintf("<%s>;tag=%s", ua.aor(), randHex(4)), to: "<" + target + ">", cseq: 1,
		extra: extra, notifies: make(chan *sipMsg, 256)}
	ua.mu.Lock()
	ua.dialogs[s.callID] = s.notifies
	ua.mu.Unlock()
	r := &outReq{method: "SUBSCRIBE", ruri: target, from: s.from, to: s.to, callID: s.callID, cseq: s.cseq,
		headers: append([]string{"Event: " + event, "Contact: " + ua.contact(), fmt.Sprintf("Expires: %d", expires)}, extra...)}
	res, err := ua.send(r)
	s.cseq = r.cseq
	if err != nil {
		return s, nil, err
	}
	s.lastRes, s.initial200 = res, res
	if res.code < 300 {
		s.to = res.header("To")
		s.remote = uriOf(res.header("Contact"))
	}
	return s, res, nil
}

// mustSubscribe is subscribe that fails the test unless the answer is 200.
func (ua *sipUA) mustSubscribe(target, event string, expires int, extra ...string) *subscription {
	ua.t.Helper()
	s, res, err := ua.subscribe(target, event, expires, extra...)
	if err != nil {
		ua.t.Fatalf("%s SUBSCRIBE %s (%s): %v", ua.user, target, event, err)
	}
	if res.code != 200 {
		ua.t.Fatalf("%s SUBSCRIBE %s (%s): want 200, got:\n%s", ua.user, target, event, res.raw)
	}
	return s
}

// refresh sends an in-dialog SUBSCRIBE (expires 0 unsubscribes).
func (s *subscription) refresh(expires int) (*sipMsg, error) {
	ruri := s.remote
	if ruri == "" {
		return nil, errors.New("no dialog")
	}
	r := &outReq{method: "SUBSCRIBE", ruri: ruri, from: s.from, to: s.to, callID: s.callID, cseq: s.cseq,
		headers: append([]string{"Event: " + s.event, "Contact: " + s.ua.contact(), fmt.Sprintf("Expires: %d", expires)}, s.extra...)}
	res, err := s.ua.send(r)
	s.cseq = r.cseq
	if res != nil {
		s.lastRes = res
	}
	return res, err
}

// next returns the next NOTIFY within limit.
func (s *subscription) next(limit time.Duration) (*sipMsg, error) {
	select {
	case m := <-s.notifies:
		s.seen = append(s.seen, m)
		return m, nil
	case <-time.After(limit):
		return nil, fmt.Errorf("%s: no NOTIFY for %s (%s) within %v", s.ua.user, s.to, s.event, limit)
	}
}

// waitFor takes NOTIFYs until one satisfies ok, within limit; the error
// lists what came instead.
func (s *subscription) waitFor(what string, limit time.Duration, ok func(*sipMsg) bool) (*sipMsg, error) {
	deadline := time.Now().Add(limit)
	var got []string
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("%s watching %s (%s): no NOTIFY with %s within %v; got %d others:\n%s",
				s.ua.user, s.to, s.event, what, limit, len(got), strings.Join(got, "\n-----\n"))
		}
		m, err := s.next(left)
		if err != nil {
			continue
		}
		if ok(m) {
			return m, nil
		}
		got = append(got, m.raw)
	}
}

// sipMsg is one parsed SIP message.
type sipMsg struct {
	raw          string
	method, ruri string // requests
	code         int    // responses
	reason       string
	hdrs         [][2]string // canonical name, value
	body         string
	arrived      time.Time
}

var compactForms = map[string]string{"i": "Call-ID", "f": "From", "t": "To", "v": "Via", "m": "Contact",
	"l": "Content-Length", "c": "Content-Type", "o": "Event", "k": "Supported", "u": "Allow-Events", "e": "Content-Encoding"}

func parseSipMsg(b []byte) (*sipMsg, error) {
	s := string(b)
	head, body, ok := strings.Cut(s, "\r\n\r\n")
	if !ok {
		return nil, errors.New("no end of headers")
	}
	lines := strings.Split(head, "\r\n")
	m := &sipMsg{raw: s}
	parts := strings.SplitN(lines[0], " ", 3)
	if len(parts) < 3 {
		return nil, fmt.Errorf("bad start line %q", lines[0])
	}
	if parts[0] == "SIP/2.0" {
		code, err := strconv.Atoi(parts[1])
		if err != nil {
			return nil, fmt.Errorf("bad status %q", lines[0])
		}
		m.code, m.reason = code, parts[2]
	} else {
		m.method, m.ruri = parts[0], parts[1]
	}
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(m.hdrs) > 0 {
			m.hdrs[len(m.hdrs)-1][1] += " " + strings.TrimSpace(l)
			continue
		}
		name, val, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("bad header line %q", l)
		}
		name = strings.TrimSpace(name)
		if long, ok := compactForms[strings.ToLower(name)]; ok {
			name = long
		}
		m.hdrs = append(m.hdrs, [2]string{name, strings.TrimSpace(val)})
	}
	if cl := m.header("Content-Length"); cl != "" {
		if n, err := strconv.Atoi(cl); err == nil && n <= len(body) {
			body = body[:n]
		}
	}
	m.body = body
	return m, nil
}

func (m *sipMsg) isResponse() bool { return m.method == "" }

// header returns the first value of a header (case-insensitive name).
func (m *sipMsg) header(name string) string {
	for _, h := range m.hdrs {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

// headers returns every value of a header, comma-separated values split
// only for Via.
func (m *sipMsg) headers(name string) []string {
	var out []string
	for _, h := range m.hdrs {
		if strings.EqualFold(h[0], name) {
			if strings.EqualFold(name, "Via") {
				for _, v := range strings.Split(h[1], ",") {
					out = append(out, strings.TrimSpace(v))
				}
				continue
			}
			out = append(out, h[1])
		}
	}
	return out
}

// branch is the top Via's branch parameter.
func (m *sipMsg) branch() string {
	vias := m.headers("Via")
	if len(vias) == 0 {
		return ""
	}
	for _, p := range strings.Split(vias[0], ";")[1:] {
		if k, v, _ := strings.Cut(strings.TrimSpace(p), "="); strings.EqualFold(k, "branch") {
			return v
		}
	}
	return ""
}

// uriOf takes the URI out of a name-addr ("<sip:x>;p" -> "sip:x").
func uriOf(addr string) string {
	if i := strings.IndexByte(addr, '<'); i >= 0 {
		if j := strings.IndexByte(addr[i:], '>'); j > 0 {
			return addr[i+1 : i+j]
		}
	}
	addr, _, _ = strings.Cut(addr, ";")
	return strings.TrimSpace(addr)
}

// digestAnswer answers a digest challenge (core/auth's client side).
func digestAnswer(challenge, method, uri, user, password string) (string, error) {
	return auth.Answer(challenge, method, uri, user, password)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
