//go:build interop

package interop

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-rtc/parley/internal/rawsip"
)

// sipUA is a deliberately small SIP user agent over one UDP socket (a
// rawsip.UA), for the presence tests that need more control than a sipp
// scenario gives (many NOTIFYs in any order, conditions decided by the
// test): it sends REGISTER, PUBLISH and SUBSCRIBE, answers each 401/407
// once with an MD5 digest, retransmits like RFC 3261's timer E for at most
// uaTxTimeout, and answers every incoming NOTIFY itself (200, or the status
// set with notifyStatus), handing it to the subscription with its Call-ID.
// Everything is text: the test sees exactly what parleyd sent.
type sipUA struct {
	t     testing.TB
	user  string
	ua    *rawsip.UA
	local string // ip:port of the socket

	mu       sync.Mutex
	dialogs  map[string]chan *sipMsg // NOTIFYs by Call-ID
	answered map[string]string       // responses sent, by request branch (retransmissions)
	status   map[string]int          // NOTIFY status by Call-ID (default 200)
	stray    []*sipMsg               // requests for no known dialog
}

// sipMsg is one parsed SIP message.
type sipMsg = rawsip.Msg

// outReq is a request for sipUA.send.
type outReq = rawsip.Request

const uaTxTimeout = 8 * time.Second

// newSipUA opens a UDP socket on 127.0.0.1 for user and starts reading.
func newSipUA(t testing.TB, server, user, password string) *sipUA {
	t.Helper()
	srv, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	s := &sipUA{t: t, user: user, dialogs: map[string]chan *sipMsg{}, answered: map[string]string{},
		status: map[string]int{}}
	s.ua, err = rawsip.Listen(rawsip.Config{Server: srv, User: user, Password: password,
		BranchPrefix: "z9hG4bK-ua-", UserAgent: "parley-interop-ua", Timeout: uaTxTimeout,
		Handle: s.serve,
		Unparsable: func(data []byte, from *net.UDPAddr, err error) {
			t.Logf("%s: unparsable datagram from %v: %v\n%s", user, from, err, data)
		}})
	if err != nil {
		t.Fatal(err)
	}
	s.local = s.ua.Local()
	t.Cleanup(s.ua.Close)
	return s
}

func (ua *sipUA) aor() string { return fmt.Sprintf("sip:%s@%s", ua.user, domain) }

func (ua *sipUA) contact() string { return fmt.Sprintf("<sip:%s@%s>", ua.user, ua.local) }

// serve answers an incoming request and hands NOTIFYs to their dialog.
func (ua *sipUA) serve(u *rawsip.UA, m *sipMsg, from *net.UDPAddr) {
	br := m.Branch()
	ua.mu.Lock()
	if prev, ok := ua.answered[br]; ok { // a retransmission
		ua.mu.Unlock()
		_ = u.WriteTo([]byte(prev), from)
		return
	}
	callID := m.Header("Call-ID")
	code, reason := 200, "OK"
	if s, ok := ua.status[callID]; ok && m.Method == "NOTIFY" {
		code, reason = s, "Test Says So"
	}
	ch := ua.dialogs[callID]
	res := m.Reply(code, reason, "ua"+randHex(4))
	ua.answered[br] = res
	if ch == nil || m.Method != "NOTIFY" {
		ua.stray = append(ua.stray, m)
	}
	ua.mu.Unlock()
	_ = u.WriteTo([]byte(res), from)
	if ch != nil && m.Method == "NOTIFY" {
		select {
		case ch <- m:
		default:
			ua.t.Logf("%s: NOTIFY queue of %s full, dropped:\n%s", ua.user, callID, m.Raw)
		}
	}
}

// notifyStatus makes the UA answer NOTIFYs of callID with code.
func (ua *sipUA) notifyStatus(callID string, code int) {
	ua.mu.Lock()
	ua.status[callID] = code
	ua.mu.Unlock()
}

// send runs one client transaction (plus one digest round) and returns the
// final response; r.CSeq is advanced past what was used.
func (ua *sipUA) send(r *outReq) (*sipMsg, error) {
	return ua.ua.Send(ua.t.Context(), r)
}

// register binds this UA's address for expires seconds.
func (ua *sipUA) register(expires int) (*sipMsg, error) {
	return ua.send(&outReq{Method: "REGISTER", RURI: "sip:" + domain,
		From: fmt.Sprintf("<%s>;tag=%s", ua.aor(), randHex(4)), To: "<" + ua.aor() + ">",
		CallID: "reg-" + randHex(8) + "@" + ua.local, CSeq: 1,
		Headers: []string{"Contact: " + ua.contact(), fmt.Sprintf("Expires: %d", expires)}})
}

// publish sends a PUBLISH for the UA's own presence; etag (SIP-If-Match),
// body and expires (-1: no Expires header) as given.
func (ua *sipUA) publish(body, etag string, expires int) (*sipMsg, error) {
	r := &outReq{Method: "PUBLISH", RURI: ua.aor(), From: fmt.Sprintf("<%s>;tag=%s", ua.aor(), randHex(4)),
		To: "<" + ua.aor() + ">", CallID: "pub-" + randHex(8) + "@" + ua.local, CSeq: 1,
		Headers: []string{"Event: presence"}, Body: body}
	if body != "" {
		r.ContentType = "application/pidf+xml"
	}
	if etag != "" {
		r.Headers = append(r.Headers, "SIP-If-Match: "+etag)
	}
	if expires >= 0 {
		r.Headers = append(r.Headers, fmt.Sprintf("Expires: %d", expires))
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
	if res.Code != 200 || (expires != 0 && res.Header("SIP-ETag") == "") {
		ua.t.Fatalf("%s PUBLISH: want 200 with SIP-ETag, got:\n%s", ua.user, res.Raw)
	}
	return res.Header("SIP-ETag")
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
	r := &outReq{Method: "SUBSCRIBE", RURI: target, From: s.from, To: s.to, CallID: s.callID, CSeq: s.cseq,
		Headers: append([]string{"Event: " + event, "Contact: " + ua.contact(), fmt.Sprintf("Expires: %d", expires)}, extra...)}
	res, err := ua.send(r)
	s.cseq = r.CSeq
	if err != nil {
		return s, nil, err
	}
	s.lastRes, s.initial200 = res, res
	if res.Code < 300 {
		s.to = res.Header("To")
		s.remote = uriOf(res.Header("Contact"))
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
	if res.Code != 200 {
		ua.t.Fatalf("%s SUBSCRIBE %s (%s): want 200, got:\n%s", ua.user, target, event, res.Raw)
	}
	return s
}

// refresh sends an in-dialog SUBSCRIBE (expires 0 unsubscribes).
func (s *subscription) refresh(expires int) (*sipMsg, error) {
	ruri := s.remote
	if ruri == "" {
		return nil, errors.New("no dialog")
	}
	r := &outReq{Method: "SUBSCRIBE", RURI: ruri, From: s.from, To: s.to, CallID: s.callID, CSeq: s.cseq,
		Headers: append([]string{"Event: " + s.event, "Contact: " + s.ua.contact(), fmt.Sprintf("Expires: %d", expires)}, s.extra...)}
	res, err := s.ua.send(r)
	s.cseq = r.CSeq
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
		got = append(got, m.Raw)
	}
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

// randHex and digestAnswer are rawsip's, for the other raw helpers here.
var (
	randHex      = rawsip.RandHex
	digestAnswer = rawsip.DigestAnswer
	parseSipMsg  = rawsip.Parse
)
