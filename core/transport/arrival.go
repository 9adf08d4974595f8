package transport

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"strconv"

	"github.com/emiago/sipgo/sip"
)

// Arrival marks. sipgo gives a UDP server transaction the socket its
// connection pool holds for the request's source address, and that pool
// is shared by every UDP socket of the node and keyed by bare addresses:
// each read loop files its sources under its own socket, and each socket
// is filed under its own local address too. When one address talks to two
// of our listeners (the node forwarding to itself, a peer using one port
// for both) the entry is whichever socket filed it last, so the
// transaction's Connection can be another listener's socket and the
// request would be judged by the wrong trust class.
//
// So each listener socket marks every request it reads: it inserts a
// header after the start line naming its listener, before sipgo parses
// the datagram on the same read loop. The header's name carries a random
// token of this process, so a sender cannot forge it, and Arrival removes
// it before the request is processed or forwarded.

// arrivalName returns a random, per-process header name for the mark.
func arrivalName() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "x-parley-in-" + hex.EncodeToString(b[:])
}

// arrivalMark is the header line a listener inserts.
func (s *Set) arrivalMark(id int) []byte {
	return []byte(s.arrival + ": " + strconv.Itoa(id) + "\r\n")
}

// markArrival inserts mark after the start line of the request in b[:n]
// and returns the new length; ok is false when b has no room for it.
// Responses and keep-alives are left alone; CRLFs before the start line
// (RFC 3261 7.5) are skipped.
func markArrival(b []byte, n int, mark []byte) (int, bool) {
	start := 0
	for start < n && (b[start] == '\r' || b[start] == '\n') {
		start++
	}
	data := b[start:n]
	if len(data) == 0 || bytes.HasPrefix(data, []byte("SIP/")) {
		return n, true
	}
	eol := bytes.IndexByte(data, '\n')
	if eol < 0 {
		return n, true // no header section: sipgo rejects it anyway
	}
	if n+len(mark) > len(b) {
		return n, false
	}
	at := start + eol + 1
	copy(b[at+len(mark):], b[at:n])
	copy(b[at:], mark)
	return n + len(mark), true
}

// Arrival returns the UDP listener whose socket req arrived on, taken
// from the mark that socket put on it, and removes every copy of the
// mark from req. It returns nil for a request without a mark (one read
// by a socket sipgo opened itself, not by a listener).
func (s *Set) Arrival(req *sip.Request) *Listener {
	h := req.GetHeader(s.arrival)
	if h == nil {
		return nil
	}
	for _, m := range req.GetHeaders(s.arrival) {
		req.RemoveHeader(m.Name())
	}
	id, err := strconv.Atoi(h.Value())
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.list {
		if l.id == id {
			return l
		}
	}
	return nil
}
