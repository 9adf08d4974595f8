package retrans

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestStoreLifetime(t *testing.T) {
	now := time.Unix(1000, 0)
	s := New(8*time.Second, func() time.Time { return now })
	key := Key(nil, []byte("REGISTER"), []byte("z9hG4bK1"), []byte("127.0.0.1:5070"))
	s.Put(key, []byte("SIP/2.0 200 OK\r\n\r\n"))
	other := Key(nil, []byte("REGISTER"), []byte("z9hG4bK1"), []byte("127.0.0.1:5071"))
	for _, tc := range []struct {
		after time.Duration
		key   []byte
		want  bool
	}{
		{0, key, true},
		{0, other, false},
		{7 * time.Second, key, true},
		{8 * time.Second, key, true},   // kept at least the lifetime
		{10 * time.Second, key, false}, // and at most a generation longer
	} {
		now = time.Unix(1000, 0).Add(tc.after)
		s.Put(Key(nil, []byte("MESSAGE"), []byte(fmt.Sprint(tc.after)), nil), []byte("x")) // rotates
		got, ok := s.Get(nil, tc.key)
		if ok != tc.want || ok && string(got) != "SIP/2.0 200 OK\r\n\r\n" {
			t.Errorf("after %v: %q %v, want %v", tc.after, got, ok, tc.want)
		}
	}
}

func TestRequestKeyMatchesParsed(t *testing.T) {
	const rest = "From: <sip:a@h>;tag=1\r\nTo: <sip:a@h>\r\nCall-ID: c\r\nCSeq: 1 %s\r\nContent-Length: 0\r\n\r\n"
	for _, tc := range []struct {
		name, msg string
		ok        bool
	}{
		{"register", "REGISTER sip:h SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5070;rport;branch=z9hG4bK-1\r\n" + fmt.Sprintf(rest, "REGISTER"), true},
		{"compact via, spaces", "MESSAGE sip:b@h SIP/2.0\r\nv: SIP/2.0/UDP 10.0.0.1 ; branch=z9hG4bKx\r\n" + fmt.Sprintf(rest, "MESSAGE"), true},
		{"blank around the value", "MESSAGE sip:b@h SIP/2.0\r\nv: SIP/2.0/UDP 10.0.0.1;branch= z9hG4bKx ;rport\r\n" + fmt.Sprintf(rest, "MESSAGE"), false},
		{"upper case name", "MESSAGE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;BRANCH=z9hG4bKx\r\n" + fmt.Sprintf(rest, "MESSAGE"), false},
		{"two via values", "OPTIONS sip:h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKa, SIP/2.0/UDP b;branch=z9hG4bKb\r\n" + fmt.Sprintf(rest, "OPTIONS"), true},
		{"second via header", "BYE sip:h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKa\r\nVia: SIP/2.0/UDP b;branch=z9hG4bKb\r\n" + fmt.Sprintf(rest, "BYE"), true},
		{"no branch", "OPTIONS sip:h SIP/2.0\r\nVia: SIP/2.0/UDP a\r\n" + fmt.Sprintf(rest, "OPTIONS"), false},
		{"invite", "INVITE sip:h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKa\r\n" + fmt.Sprintf(rest, "INVITE"), false},
		{"ack", "ACK sip:h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKa\r\n" + fmt.Sprintf(rest, "ACK"), false},
		{"response", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKa\r\n" + fmt.Sprintf(rest, "OPTIONS"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkKey(t, []byte(tc.msg), tc.ok)
		})
	}
}

// checkKey: when RequestKey finds a key for a request whose top Via sipgo
// parses (a transport, a host and a branch), it is the one the parsed
// request gives. For Vias too broken for that, the two may differ: such a
// request just is not absorbed on the read loop, and the pipeline still
// matches it from the parsed request.
func checkKey(t *testing.T, data []byte, wantOK bool) {
	t.Helper()
	key, ok := RequestKey(nil, data, "127.0.0.1:9")
	if ok != wantOK && wantOK {
		t.Fatalf("no key for %q", data)
	}
	if !ok {
		return
	}
	msg, err := sip.NewParser().ParseSIP(data)
	if err != nil {
		return
	}
	req, isReq := msg.(*sip.Request)
	if !isReq || req.Via() == nil || req.Via().Transport == "" || req.Via().Host == "" {
		return
	}
	branch, _ := req.Via().Params.Get("branch")
	if branch == "" {
		return
	}
	if want := KeyOf(string(req.Method), branch, "127.0.0.1:9"); string(want) != string(key) {
		t.Fatalf("raw key %q, parsed key %q", key, want)
	}
}

func FuzzRequestKey(f *testing.F) {
	f.Add([]byte("REGISTER sip:h SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5070;rport;branch=z9hG4bK-1\r\nCSeq: 1 REGISTER\r\n\r\n"))
	f.Add([]byte("MESSAGE sip:b@h SIP/2.0\r\nv: SIP/2.0/UDP 10.0.0.1 ; branch = z9hG4bKx\r\n\r\n"))
	f.Add([]byte("OPTIONS sip:h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKa, SIP/2.0/UDP b;branch=z9hG4bKb\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkKey(t, data, false)
	})
}

func TestStoreChunks(t *testing.T) {
	s := New(time.Minute, nil)
	big := make([]byte, chunkSize+10)
	for i := range 3000 {
		res := []byte(fmt.Sprintf("response %d %s", i, make([]byte, 700)))
		if i == 1500 {
			res = big
		}
		s.Put(Key(nil, []byte("MESSAGE"), []byte(fmt.Sprint(i)), nil), res)
	}
	for _, i := range []int{0, 1499, 1500, 1501, 2999} {
		got, ok := s.Get(nil, Key(nil, []byte("MESSAGE"), []byte(fmt.Sprint(i)), nil))
		if !ok || i != 1500 && !strings.HasPrefix(string(got), fmt.Sprintf("response %d ", i)) || i == 1500 && len(got) != len(big) {
			t.Fatalf("record %d: %v %q", i, ok, got[:min(len(got), 20)])
		}
	}
	if s.Len() != 3000 {
		t.Fatalf("len %d", s.Len())
	}
}
