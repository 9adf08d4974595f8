package node

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parley-rtc/parley/core/auth"
	"github.com/parley-rtc/parley/core/config"
)

// The benchmarks below drive a whole node over UDP on loopback, like
// `make bench` does with sipp, from benchWorkers sockets in this process
// (one flow each, one transaction outstanding per flow). Every REGISTER
// is a fresh user's first, so every one is a new binding committed
// through raft. GOGC is parleyd's 400. Besides ns/op they report cpu-us/op (user+system CPU of
// the whole test process, client included, per call) and allocs/op (of
// the whole process): on a shared machine those are the stable measures.
//
//	go test -run '^$' -bench 'BenchmarkNode' -benchtime 20000x ./core/node/

const benchWorkers = 64

type benchNode struct {
	*testNode
	trusted string // a trust=trusted UDP listener: no digest
}

// startBenchNode starts a node with users user0..user{b.N-1} and target.
func startBenchNode(b *testing.B) *benchNode {
	b.Helper()
	trusted := freePort(b)
	n := startNodeWith(b, func(c *config.Config) {
		c.SIPListen = append(c.SIPListen, fmt.Sprintf("udp://127.0.0.1:%d?trust=trusted", trusted))
		c.FloodRate = 0
		c.XCAPListen = ""
	})
	var csv strings.Builder
	csv.WriteString("username,password\n")
	for i := 0; i < b.N; i++ {
		fmt.Fprintf(&csv, "user%d,secret\n", i)
	}
	csv.WriteString("target,secret\n")
	req, _ := http.NewRequest("POST", n.admin+"/v1/users/import", strings.NewReader(csv.String()))
	req.Header.Set("Authorization", "Bearer test-token")
	req.Header.Set("Content-Type", "text/csv")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		b.Fatalf("user import: %d", res.StatusCode)
	}
	return &benchNode{testNode: n, trusted: fmt.Sprintf("127.0.0.1:%d", trusted)}
}

// benchFlow is one client socket with one transaction outstanding.
type benchFlow struct {
	c     *net.UDPConn
	local string
	buf   []byte
	seq   int
}

func newBenchFlow(b testing.TB, server string) *benchFlow {
	raddr, _ := net.ResolveUDPAddr("udp", server)
	c, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return &benchFlow{c: c, local: c.LocalAddr().String(), buf: make([]byte, 65535)}
}

// request sends a request and returns the first final response.
func (f *benchFlow) request(msg string) (string, error) {
	if _, err := f.c.Write([]byte(msg)); err != nil {
		return "", err
	}
	for {
		_ = f.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := f.c.Read(f.buf)
		if err != nil {
			return "", err
		}
		res := string(f.buf[:n])
		if !strings.HasPrefix(res, "SIP/2.0 1") {
			return res, nil
		}
	}
}

func (f *benchFlow) sipRequest(method, ruri, from, to, callID string, cseq int, extra string, body string) string {
	f.seq++
	return fmt.Sprintf("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-b%d-%s\r\n"+
		"From: <sip:%s@localhost>;tag=f%s\r\nTo: <sip:%s@localhost>\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"+
		"Max-Forwards: 70\r\n%sContent-Length: %d\r\n\r\n%s",
		method, ruri, f.local, f.seq, callID, from, callID, to, callID, cseq, method, extra, len(body), body)
}

// register registers user from this flow; with digest it answers the 401.
func (f *benchFlow) register(user, callID string, digest bool) error {
	contact := fmt.Sprintf("Contact: <sip:%s@%s>\r\nExpires: 3600\r\n", user, f.local)
	res, err := f.request(f.sipRequest("REGISTER", "sip:localhost", user, user, callID, 1, contact, ""))
	if err != nil {
		return err
	}
	if digest {
		ch, ok := headerOf(res, "WWW-Authenticate")
		if !ok {
			return fmt.Errorf("want a 401 challenge, got %q", firstLine(res))
		}
		cred, err := auth.Answer(ch, "REGISTER", "sip:localhost", user, "secret")
		if err != nil {
			return err
		}
		res, err = f.request(f.sipRequest("REGISTER", "sip:localhost", user, user, callID, 2,
			contact+"Authorization: "+cred+"\r\n", ""))
		if err != nil {
			return err
		}
	}
	if !strings.HasPrefix(res, "SIP/2.0 200 ") {
		return fmt.Errorf("REGISTER %s: %q", user, firstLine(res))
	}
	return nil
}

// message sends an authenticated MESSAGE from user to target.
func (f *benchFlow) message(user, target, callID string) error {
	body := "bench message"
	extra := "Content-Type: text/plain\r\n"
	res, err := f.request(f.sipRequest("MESSAGE", "sip:"+target+"@localhost", user, target, callID, 1, extra, body))
	if err != nil {
		return err
	}
	ch, ok := headerOf(res, "Proxy-Authenticate")
	if !ok {
		return fmt.Errorf("want a 407 challenge, got %q", firstLine(res))
	}
	cred, err := auth.Answer(ch, "MESSAGE", "sip:"+target+"@localhost", user, "secret")
	if err != nil {
		return err
	}
	res, err = f.request(f.sipRequest("MESSAGE", "sip:"+target+"@localhost", user, target, callID, 2,
		extra+"Proxy-Authorization: "+cred+"\r\n", body))
	if err != nil {
		return err
	}
	if !strings.HasPrefix(res, "SIP/2.0 200 ") {
		return fmt.Errorf("MESSAGE: %q", firstLine(res))
	}
	return nil
}

func headerOf(msg, name string) (string, bool) {
	for _, line := range strings.Split(msg, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

func firstLine(msg string) string {
	line, _, _ := strings.Cut(msg, "\r\n")
	return line
}

// serveUAS answers every MESSAGE on c with 200 until c is closed.
func serveUAS(c *net.UDPConn) {
	buf := make([]byte, 65535)
	for {
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			return
		}
		req := string(buf[:n])
		if !strings.HasPrefix(req, "MESSAGE ") {
			continue
		}
		var res bytes.Buffer
		res.WriteString("SIP/2.0 200 OK\r\n")
		for _, line := range strings.Split(req, "\r\n") {
			k, _, _ := strings.Cut(line, ":")
			switch strings.ToLower(k) {
			case "via", "from", "call-id", "cseq":
				res.WriteString(line + "\r\n")
			case "to":
				res.WriteString(line + ";tag=uas\r\n")
			}
		}
		res.WriteString("Content-Length: 0\r\n\r\n")
		_, _ = c.WriteToUDP(res.Bytes(), from)
	}
}

// runBench runs b.N calls of one from benchWorkers flows and reports CPU
// per call.
func runBench(b *testing.B, server string, call func(f *benchFlow, i int) error) {
	flows := make([]*benchFlow, benchWorkers)
	for i := range flows {
		flows[i] = newBenchFlow(b, server)
	}
	var next atomic.Int64
	var failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	// parleyd's own GC setting (cmd/parleyd).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	b.ReportAllocs()
	before := cpuTime()
	b.ResetTimer()
	for _, f := range flows {
		wg.Add(1)
		go func(f *benchFlow) {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := call(f, i); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}(f)
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-before).Microseconds())/float64(b.N), "cpu-us/op")
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d calls failed; first: %v", n, b.N, firstErr.Load())
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkNodeRegisterNoAuth: REGISTER, 200 through the trusted listener.
func BenchmarkNodeRegisterNoAuth(b *testing.B) {
	n := startBenchNode(b)
	runBench(b, n.trusted, func(f *benchFlow, i int) error {
		return f.register("user"+strconv.Itoa(i), "nb-"+strconv.Itoa(i), false)
	})
}

// BenchmarkNodeRegisterDigest: REGISTER, 401, REGISTER with credentials, 200.
func BenchmarkNodeRegisterDigest(b *testing.B) {
	n := startBenchNode(b)
	runBench(b, n.sip, func(f *benchFlow, i int) error {
		return f.register("user"+strconv.Itoa(i), "db-"+strconv.Itoa(i), true)
	})
}

// BenchmarkNodeMessage: MESSAGE, 407, MESSAGE with credentials relayed to
// a registered UAS, 200.
func BenchmarkNodeMessage(b *testing.B) {
	n := startBenchNode(b)
	uas, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer uas.Close()
	// Register the target from the UAS socket's address, then serve it.
	raddr, _ := net.ResolveUDPAddr("udp", n.sip)
	reg := &benchFlow{local: uas.LocalAddr().String(), buf: make([]byte, 65535)}
	reg.c = uas
	if err := registerFrom(uas, raddr, reg); err != nil {
		b.Fatal(err)
	}
	go serveUAS(uas)
	runBench(b, n.sip, func(f *benchFlow, i int) error {
		return f.message("user"+strconv.Itoa(i), "target", "mb-"+strconv.Itoa(i))
	})
}

// registerFrom registers "target" with digest from the unconnected socket
// uas (its benchFlow writes go to raddr).
func registerFrom(uas *net.UDPConn, raddr *net.UDPAddr, f *benchFlow) error {
	send := func(msg string) (string, error) {
		if _, err := uas.WriteToUDP([]byte(msg), raddr); err != nil {
			return "", err
		}
		_ = uas.SetReadDeadline(time.Now().Add(10 * time.Second))
		defer uas.SetReadDeadline(time.Time{})
		for {
			n, _, err := uas.ReadFromUDP(f.buf)
			if err != nil {
				return "", err
			}
			if res := string(f.buf[:n]); !strings.HasPrefix(res, "SIP/2.0 1") {
				return res, nil
			}
		}
	}
	contact := fmt.Sprintf("Contact: <sip:target@%s>\r\nExpires: 3600\r\n", f.local)
	res, err := send(f.sipRequest("REGISTER", "sip:localhost", "target", "target", "uas-reg", 1, contact, ""))
	if err != nil {
		return err
	}
	ch, ok := headerOf(res, "WWW-Authenticate")
	if !ok {
		return fmt.Errorf("want a 401, got %q", firstLine(res))
	}
	cred, err := auth.Answer(ch, "REGISTER", "sip:localhost", "target", "secret")
	if err != nil {
		return err
	}
	res, err = send(f.sipRequest("REGISTER", "sip:localhost", "target", "target", "uas-reg", 2,
		contact+"Authorization: "+cred+"\r\n", ""))
	if err != nil {
		return err
	}
	if !strings.HasPrefix(res, "SIP/2.0 200 ") {
		return fmt.Errorf("target REGISTER: %q", firstLine(res))
	}
	return nil
}
