package node

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/host"
	"github.com/parley-rtc/parley/plugins/sdk"
)

// gateway is a sipgo UAS playing a PSTN gateway: it answers INVITEs as
// its mode says and reports what it got.
type gateway struct {
	addr    string
	mode    string // "503", "503ra" (with Retry-After), "486", "200", "silent", "trying" (100 only), "early486" (183 with SDP, then 486)
	invites chan *sip.Request
	cancels chan *sip.Request
}

func newGateway(t *testing.T, mode string) *gateway {
	t.Helper()
	u, err := sipgo.NewUA(sipgo.WithUserAgent("gw-" + mode))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(u)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gateway{addr: pc.LocalAddr().String(), mode: mode, invites: make(chan *sip.Request, 4), cancels: make(chan *sip.Request, 4)}
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		g.invites <- req
		tx.OnCancel(func(c *sip.Request) { g.cancels <- c })
		final := func(code int, reason string, hdrs ...sip.Header) {
			res := sip.NewResponseFromRequest(req, code, reason, nil)
			res.To().Params.Add("tag", sip.GenerateTagN(8))
			for _, h := range hdrs {
				res.AppendHeader(h)
			}
			if code == 200 {
				res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "gw", Host: "127.0.0.1", Port: pc.LocalAddr().(*net.UDPAddr).Port}})
			}
			_ = tx.Respond(res)
		}
		switch g.mode {
		case "503":
			final(503, "Service Unavailable")
		case "503ra":
			final(503, "Service Unavailable", sip.NewHeader("Retry-After", "30"))
		case "486":
			final(486, "Busy Here")
		case "200":
			final(200, "OK")
		case "early486":
			early := sip.NewResponseFromRequest(req, 183, "Session Progress", []byte("v=0\r\n"))
			early.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			_ = tx.Respond(early)
			time.Sleep(100 * time.Millisecond)
			final(486, "Busy Here")
		case "trying":
			_ = tx.Respond(sip.NewResponseFromRequest(req, 100, "Trying", nil))
			<-tx.Done() // until the CANCEL (sipgo answers 487)
		case "silent":
			// sipgo sends no 100 of its own for a UAS; say nothing.
			<-tx.Done()
		}
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	go srv.ServeUDP(pc)
	t.Cleanup(func() { pc.Close(); u.Close() })
	return g
}

// forker is an in-process plugin that forks every INVITE to the
// gateways of the test at hand, each with its own Request-URI user,
// under the PSTN failover codes and a 1 s fast-failover timer.
type forker struct{ gws atomic.Pointer[[]*gateway] }

func (f *forker) app() sdk.App {
	return sdk.App{Name: "forker", Handle: func(_ context.Context, req *sdk.Request) sdk.Verdict {
		if req.Method != sip.INVITE {
			return sdk.Continue()
		}
		cur := *f.gws.Load()
		var bs []sdk.Branch
		for i, g := range cur {
			bs = append(bs, sdk.Branch{Target: "sip:" + g.addr + ";transport=udp",
				RequestURI: fmt.Sprintf("sip:%d%s@%s;user=phone", i, req.Recipient.User, g.addr), Headers: []string{"X-Branch", fmt.Sprint(i)}})
		}
		return sdk.ForkBranches(bs...).WithFailover(sdk.Failover{Next: []int{408, 500, 502, 503, 504}, Timer: time.Second})
	}}
}

// TestNodeForkFailoverPolicy drives the core's policy-driven serial
// fork through a node: 503 goes to the next gateway (with its own
// Request-URI), 486 stops, a gateway that only says 100 is cancelled
// after the fast-failover timer, a failure after early media stops, and
// the caller never sees a 503 (500, or 480 with Retry-After).
func TestNodeForkFailoverPolicy(t *testing.T) {
	f := &forker{}
	f.gws.Store(&[]*gateway{})
	n := buildNode(t, nil)
	n.opts = []Option{WithPluginLauncher(host.InProcess(map[string]sdk.App{"forker": f.app()}, n.log))}
	n.start(t)
	n.addUser(t, "alice", "pw-alice")
	alice := newUA(t, "alice")
	n.adminCall(t, "POST", "/v1/apps", map[string]any{"name": "forker", "kind": "plugin", "command": "forker", "position": 50,
		"enabled": true, "methods": []string{"INVITE"}}, 201)
	call := func(t *testing.T) (*sip.Response, time.Duration) {
		inv := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "2065550100", Host: "localhost"})
		inv.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "localhost"}, Params: tagParams()})
		inv.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: alice.port}})
		start := time.Now()
		res := alice.do(t, n, inv, "alice", "pw-alice")
		return res, time.Since(start)
	}
	cases := []struct {
		name     string
		modes    []string
		want     int
		reached  []bool // which gateways got the INVITE
		cancel   int    // the gateway that must get a CANCEL (-1 none)
		min, max time.Duration
	}{
		{"503 then answer", []string{"503", "200"}, 200, []bool{true, true}, -1, 0, 3 * time.Second},
		{"486 stops", []string{"486", "200"}, 486, []bool{true, false}, -1, 0, 3 * time.Second},
		{"100 only: fast failover", []string{"trying", "200"}, 200, []bool{true, true}, 0, 900 * time.Millisecond, 4 * time.Second},
		{"silent: fast failover", []string{"silent", "200"}, 200, []bool{true, true}, -1, 900 * time.Millisecond, 4 * time.Second},
		{"failure after early media stops", []string{"early486", "200"}, 486, []bool{true, false}, -1, 0, 3 * time.Second},
		{"every gateway 503", []string{"503", "503"}, 500, []bool{true, true}, -1, 0, 3 * time.Second},
		{"503 with Retry-After last", []string{"503", "503ra"}, 480, []bool{true, true}, -1, 0, 3 * time.Second},
	}
	first := true
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gws := []*gateway{newGateway(t, tc.modes[0]), newGateway(t, tc.modes[1])}
			f.gws.Store(&gws)
			res, took := call(t)
			for i := 0; first && res.StatusCode == 404 && i < 100; i++ { // the plugin is starting: the router answered
				time.Sleep(100 * time.Millisecond)
				res, took = call(t)
			}
			first = false
			if res.StatusCode != tc.want {
				t.Fatalf("caller got %d %s, want %d", res.StatusCode, res.Reason, tc.want)
			}
			if took < tc.min || took > tc.max {
				t.Fatalf("took %s, want %s-%s", took, tc.min, tc.max)
			}
			for i, g := range gws {
				select {
				case req := <-g.invites:
					if !tc.reached[i] {
						t.Fatalf("gateway %d got the INVITE", i)
					}
					if want := fmt.Sprintf("%d2065550100", i); req.Recipient.User != want || !strings.Contains(req.String(), fmt.Sprintf("X-Branch: %d", i)) {
						t.Fatalf("gateway %d got R-URI %s", i, req.Recipient.String())
					}
				case <-time.After(200 * time.Millisecond):
					if tc.reached[i] {
						t.Fatalf("gateway %d never got the INVITE", i)
					}
				}
			}
			if tc.cancel >= 0 {
				select {
				case <-gws[tc.cancel].cancels:
				case <-time.After(2 * time.Second):
					t.Fatalf("gateway %d got no CANCEL", tc.cancel)
				}
			}
		})
	}
}
