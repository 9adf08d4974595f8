package transport

import (
	"log/slog"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestMarkArrival(t *testing.T) {
	mark := []byte("x-m: 1\r\n")
	cases := []struct {
		name, in, want string
		room           int // spare bytes after the datagram
		ok             bool
	}{
		{"request", "MESSAGE sip:a@b SIP/2.0\r\nVia: x\r\n\r\n", "MESSAGE sip:a@b SIP/2.0\r\nx-m: 1\r\nVia: x\r\n\r\n", 64, true},
		{"lower-case method", "message sip:a@b SIP/2.0\r\nVia: x\r\n\r\n", "message sip:a@b SIP/2.0\r\nx-m: 1\r\nVia: x\r\n\r\n", 64, true},
		{"leading CRLF", "\r\nOPTIONS sip:b SIP/2.0\r\n\r\n", "\r\nOPTIONS sip:b SIP/2.0\r\nx-m: 1\r\n\r\n", 64, true},
		{"response", "SIP/2.0 200 OK\r\n\r\n", "SIP/2.0 200 OK\r\n\r\n", 64, true},
		{"keep-alive", "\r\n\r\n", "\r\n\r\n", 64, true},
		{"no line end", "garbage", "garbage", 64, true},
		{"no room", "MESSAGE sip:a@b SIP/2.0\r\n\r\n", "MESSAGE sip:a@b SIP/2.0\r\n\r\n", 3, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := make([]byte, len(tc.in)+tc.room)
			copy(b, tc.in)
			n, ok := markArrival(b, len(tc.in), mark)
			if ok != tc.ok || string(b[:n]) != tc.want {
				t.Fatalf("got %q %v, want %q %v", b[:n], ok, tc.want, tc.ok)
			}
		})
	}
}

// TestArrival: the mark names the listener, and Arrival removes every
// copy of it; a request without one has no listener.
func TestArrival(t *testing.T) {
	s := NewSet(slog.New(slog.DiscardHandler))
	a, b := &Listener{id: 1, Network: "UDP"}, &Listener{id: 2, Network: "UDP"}
	s.list = []*Listener{a, b}
	cases := []struct {
		name  string
		marks []string
		want  *Listener
	}{
		{"first listener", []string{"1"}, a},
		{"second listener", []string{"2"}, b},
		{"first mark wins", []string{"2", "1"}, b},
		{"unknown id", []string{"9"}, nil},
		{"not a number", []string{"x"}, nil},
		{"no mark", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := "MESSAGE sip:a@b SIP/2.0\r\n"
			for _, m := range tc.marks {
				data += s.arrival + ": " + m + "\r\n"
			}
			data += "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
			msg, err := sip.ParseMessage([]byte(data))
			if err != nil {
				t.Fatal(err)
			}
			req := msg.(*sip.Request)
			if got := s.Arrival(req); got != tc.want {
				t.Fatalf("listener %v, want %v", got, tc.want)
			}
			if h := req.GetHeader(s.arrival); h != nil {
				t.Fatalf("mark left on the request: %v", h)
			}
		})
	}
}
