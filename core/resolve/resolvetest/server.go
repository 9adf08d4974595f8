// Package resolvetest runs a small authoritative DNS server on
// 127.0.0.1 for tests: it answers from records given in zone-file syntax
// and can be told to stay silent, so resolver and failover tests use real
// DNS messages over a real socket.
package resolvetest

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Server answers queries from its records.
type Server struct {
	Addr string // 127.0.0.1:port

	mu      sync.Mutex
	records []dns.RR
	queries []string // "TYPE name" in arrival order
	srv     *dns.Server
}

// Start serves records (zone-file lines such as
// "_sip._udp.example. 60 IN SRV 10 50 5060 a.example.") on a random UDP
// port until the test ends.
func Start(t testing.TB, records ...string) *Server {
	t.Helper()
	s := &Server{}
	s.Add(t, records...)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("resolvetest: listen: %v", err)
	}
	s.Addr = pc.LocalAddr().String()
	started := make(chan struct{})
	s.srv = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.answer), NotifyStartedFunc: func() { close(started) }}
	go func() { _ = s.srv.ActivateAndServe() }()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("resolvetest: server did not start")
	}
	t.Cleanup(func() { _ = s.srv.Shutdown() })
	return s
}

// Add adds records (zone-file lines) to those served.
func (s *Server) Add(t testing.TB, records ...string) {
	t.Helper()
	for _, line := range records {
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("resolvetest: record %q: %v", line, err)
		}
		s.mu.Lock()
		s.records = append(s.records, rr)
		s.mu.Unlock()
	}
}

// Queries returns the questions asked so far, as "TYPE name".
func (s *Server) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.queries...)
}

func (s *Server) answer(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	s.mu.Lock()
	for _, q := range req.Question {
		s.queries = append(s.queries, fmt.Sprintf("%s %s", dns.TypeToString[q.Qtype], strings.ToLower(q.Name)))
		for _, rr := range s.records {
			h := rr.Header()
			if h.Rrtype == q.Qtype && strings.EqualFold(h.Name, q.Name) {
				m.Answer = append(m.Answer, dns.Copy(rr))
			}
		}
	}
	s.mu.Unlock()
	if len(m.Answer) == 0 {
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}
