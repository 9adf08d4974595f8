//go:build linux

package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/parley-rtc/parley/core/auth"
	"net"
	"strconv"
	"strings"
	"time"
)

// A small SIP user agent over one UDP socket: enough to REGISTER, PUBLISH
// and SUBSCRIBE with an MD5 digest and to answer NOTIFYs, cheaply enough
// to run a thousand of them in one process.

// msg is one parsed SIP message (headers by lower-cased long name).
type msg struct {
	method  string // requests
	code    int    // responses
	hdr     map[string][]string
	body    string
	arrived time.Time
}

var compact = map[string]string{"i": "call-id", "f": "from", "t": "to", "v": "via", "m": "contact",
	"l": "content-length", "c": "content-type", "o": "event", "k": "supported"}

func parse(b []byte) (*msg, error) {
	head, body, ok := strings.Cut(string(b), "\r\n\r\n")
	if !ok {
		return nil, errors.New("no end of headers")
	}
	lines := strings.Split(head, "\r\n")
	m := &msg{hdr: map[string][]string{}}
	parts := strings.SplitN(lines[0], " ", 3)
	if len(parts) < 3 {
		return nil, fmt.Errorf("bad start line %q", lines[0])
	}
	if parts[0] == "SIP/2.0" {
		code, err := strconv.Atoi(parts[1])
		if err != nil {
			return nil, fmt.Errorf("bad status line %q", lines[0])
		}
		m.code = code
	} else {
		m.method = parts[0]
	}
	for _, l := range lines[1:] {
		name, val, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if long, ok := compact[name]; ok {
			name = long
		}
		m.hdr[name] = append(m.hdr[name], strings.TrimSpace(val))
	}
	if n, err := strconv.Atoi(m.get("content-length")); err == nil && n <= len(body) {
		body = body[:n]
	}
	m.body = body
	return m, nil
}

func (m *msg) get(name string) string {
	if v := m.hdr[strings.ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// branch is the top Via's branch.
func (m *msg) branch() string {
	via := m.get("via")
	via, _, _ = strings.Cut(via, ",")
	for _, p := range strings.Split(via, ";")[1:] {
		if k, v, _ := strings.Cut(strings.TrimSpace(p), "="); strings.EqualFold(k, "branch") {
			return v
		}
	}
	return ""
}

// ua is one user agent on its own UDP socket. Its reader answers every
// request with 200 and hands NOTIFYs to onNotify; responses go to the one
// transaction in flight (one at a time per UA).
type ua struct {
	user, password string
	server         *net.UDPAddr
	conn           *net.UDPConn
	local          string
	resp           chan *msg
	onNotify       func(*msg)
}

func newUA(server *net.UDPAddr, user, password string, onNotify func(*msg)) (*ua, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	u := &ua{user: user, password: password, server: server, conn: conn, local: conn.LocalAddr().String(),
		resp: make(chan *msg, 8), onNotify: onNotify}
	go u.read()
	return u, nil
}

func (u *ua) close() { u.conn.Close() }

func (u *ua) aor() string { return "sip:" + u.user + "@" + domain }

func (u *ua) read() {
	buf := make([]byte, 65536)
	for {
		n, from, err := u.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		now := time.Now()
		m, err := parse(buf[:n])
		if err != nil {
			continue
		}
		m.arrived = now
		if m.method == "" {
			select {
			case u.resp <- m:
			default:
			}
			continue
		}
		to := m.get("to")
		if !strings.Contains(to, "tag=") {
			to += ";tag=fo" + randHex(4)
		}
		var b strings.Builder
		b.WriteString("SIP/2.0 200 OK\r\n")
		for _, v := range m.hdr["via"] {
			b.WriteString("Via: " + v + "\r\n")
		}
		fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
			m.get("from"), to, m.get("call-id"), m.get("cseq"))
		_, _ = u.conn.WriteToUDP([]byte(b.String()), from)
		if m.method == "NOTIFY" && u.onNotify != nil {
			u.onNotify(m)
		}
	}
}

// request is one outgoing request; send fills in Via and CSeq.
type request struct {
	method, ruri, from, to, callID string
	cseq                           int
	headers                        []string
	contentType, body              string
}

const txTimeout = 16 * time.Second

// send runs a client transaction, answering one 401/407 with credentials.
func (u *ua) send(r *request) (*msg, error) {
	res, err := u.transaction(r, "")
	if err != nil || (res.code != 401 && res.code != 407) {
		return res, err
	}
	hdr, name := "www-authenticate", "Authorization"
	if res.code == 407 {
		hdr, name = "proxy-authenticate", "Proxy-Authorization"
	}
	cred, err := digest(res.get(hdr), r.method, r.ruri, u.user, u.password)
	if err != nil {
		return res, err
	}
	return u.transaction(r, name+": "+cred)
}

func (u *ua) transaction(r *request, auth string) (*msg, error) {
	branch := "z9hG4bK-fo-" + randHex(8)
	r.cseq++
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n",
		r.method, r.ruri, u.local, branch, r.from, r.to, r.callID, r.cseq, r.method)
	for _, h := range r.headers {
		b.WriteString(h + "\r\n")
	}
	if auth != "" {
		b.WriteString(auth + "\r\n")
	}
	if r.contentType != "" {
		b.WriteString("Content-Type: " + r.contentType + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(r.body), r.body)
	data := []byte(b.String())
	deadline := time.NewTimer(txTimeout)
	defer deadline.Stop()
	interval := 500 * time.Millisecond
	retrans := time.NewTimer(interval)
	defer retrans.Stop()
	if _, err := u.conn.WriteToUDP(data, u.server); err != nil {
		return nil, err
	}
	for {
		select {
		case m := <-u.resp:
			if m.branch() != branch || m.code < 200 {
				continue
			}
			return m, nil
		case <-retrans.C:
			if _, err := u.conn.WriteToUDP(data, u.server); err != nil {
				return nil, err
			}
			interval = min(2*interval, 4*time.Second)
			retrans.Reset(interval)
		case <-deadline.C:
			return nil, fmt.Errorf("%s %s: no final response in %v", r.method, r.ruri, txTimeout)
		}
	}
}

// digest answers a digest challenge (core/auth's client side).
func digest(challenge, method, uri, user, password string) (string, error) {
	return auth.Answer(challenge, method, uri, user, password)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
