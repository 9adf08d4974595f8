package registrar

import (
	"context"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
)

// registerVia is a REGISTER whose top Via names via (host:port).
func registerVia(t *testing.T, via string, extra ...string) *sip.Request {
	t.Helper()
	req := register(t, "r"+via, 1, extra...)
	v := req.Via()
	h, p, _ := strings.Cut(via, ":")
	v.Host = h
	v.Port = 0
	if p != "" {
		v.Port = atoi(t, p)
	}
	return req
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("port %q", s)
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func (f *fixture) doFlow(req *sip.Request, fl Flow) *sip.Response {
	return f.reg.Handle(context.Background(), Request{Req: req, AOR: "alice@localhost", Identity: "alice@localhost", Flow: fl})
}

// TestReach checks where requests for a new binding will go
// (Binding.Reach): the Contact unless NAT is detected, the transport is
// connection-oriented, the UA asked for outbound or always-flow is set.
func TestReach(t *testing.T) {
	udp := func(src string) Flow { return Flow{Transport: "UDP", Source: src, Local: "10.0.0.1:5060"} }
	cases := []struct {
		name    string
		via     string
		contact string
		extra   []string
		flow    Flow
		always  bool
		reach   state.Reach
		require bool
	}{
		{"third party: contact on another port, no NAT", "198.51.100.7:40000", "<sip:alice@198.51.100.7:5060>", nil, udp("198.51.100.7:40000"), false, state.ReachContact, false},
		{"third party on loopback", "127.0.0.1:40000", "<sip:alice@127.0.0.1:5099>", nil, udp("127.0.0.1:40000"), false, state.ReachContact, false},
		{"contact is the source", "198.51.100.7:5060", "<sip:alice@198.51.100.7:5060>", nil, udp("198.51.100.7:5060"), false, state.ReachFlow, false},
		{"NAT: Via differs from source", "192.168.1.5:5060", "<sip:alice@192.168.1.5:5060>", nil, udp("203.0.113.9:31000"), false, state.ReachFlow, false},
		{"NAT: private contact, Via rewritten by an ALG", "203.0.113.9:31000", "<sip:alice@192.168.1.5:5060>", nil, udp("203.0.113.9:31000"), false, state.ReachFlow, false},
		{"loopback contact from a remote source", "203.0.113.9:31000", "<sip:alice@127.0.0.1:5060>", nil, udp("203.0.113.9:31000"), false, state.ReachFlow, false},
		{"DNS name in the contact", "198.51.100.7:40000", "<sip:alice@pc.example.com:5060>", nil, udp("198.51.100.7:40000"), false, state.ReachFlow, false},
		{"always-flow", "198.51.100.7:40000", "<sip:alice@198.51.100.7:5060>", nil, udp("198.51.100.7:40000"), true, state.ReachFlow, false},
		{"TCP: the connection", "198.51.100.7:5060", "<sip:alice@198.51.100.7:5060;transport=tcp>", nil, Flow{Transport: "TCP", Source: "198.51.100.7:40001"}, false, state.ReachFlow, false},
		{"outbound", "198.51.100.7:40000", `<sip:alice@198.51.100.7:5060;ob>;+sip.instance="<urn:uuid:1>";reg-id=1`, []string{"Supported: path, outbound"}, udp("198.51.100.7:40000"), false, state.ReachOutbound, true},
		{"instance without reg-id: no outbound", "198.51.100.7:40000", `<sip:alice@198.51.100.7:5060>;+sip.instance="<urn:uuid:1>"`, []string{"Supported: outbound"}, udp("198.51.100.7:40000"), false, state.ReachContact, false},
		{"reg-id without Supported: no outbound", "198.51.100.7:40000", `<sip:alice@198.51.100.7:40000>;+sip.instance="<urn:uuid:1>";reg-id=1`, nil, udp("198.51.100.7:40000"), false, state.ReachFlow, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.reg.cfg.AlwaysFlow = tc.always
			res := f.doFlow(registerVia(t, tc.via, append([]string{"Contact: " + tc.contact}, tc.extra...)...), tc.flow)
			if res.StatusCode != 200 {
				t.Fatalf("%d %s", res.StatusCode, res.Reason)
			}
			b := f.st.Bindings("alice@localhost")
			if len(b) != 1 || b[0].Reach != tc.reach {
				t.Fatalf("bindings %+v, want reach %q", b, tc.reach)
			}
			if got := hasOption(reqOf(res), "Require", "outbound"); got != tc.require {
				t.Fatalf("Require: outbound in the 200: %v, want %v", got, tc.require)
			}
		})
	}
}

// reqOf lets hasOption read a response's headers.
func reqOf(res *sip.Response) *sip.Request {
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{})
	for _, h := range res.Headers() {
		req.AppendHeader(h)
	}
	return req
}

// TestReachOldCluster: while a member runs a binary that cannot read
// Reach and Path, bindings are written as before (the flow).
func TestReachOldCluster(t *testing.T) {
	f := newFixture(t)
	if _, err := f.w.Write(context.Background(), state.CmdMemberPut, state.MemberPut{Member: state.Member{ID: "old", LogVersion: 2}}); err != nil {
		t.Fatal(err)
	}
	res := f.doFlow(registerVia(t, "198.51.100.7:40000", "Contact: <sip:alice@198.51.100.7:5060>"), Flow{Transport: "UDP", Source: "198.51.100.7:40000"})
	if b := f.st.Bindings("alice@localhost"); res.StatusCode != 200 || len(b) != 1 || b[0].Reach != state.ReachFlow {
		t.Fatalf("%d %+v", res.StatusCode, b)
	}
}

// TestRefusedContacts: a Contact that would make us send to ourselves,
// a cluster member or many hosts gets 403; removing one does not.
func TestRefusedContacts(t *testing.T) {
	f := newFixture(t)
	f.reg.cfg.Own = func(host string, port int) bool { return host == "10.0.0.1" && (port == 5060 || port == 0) }
	if _, err := f.w.Write(context.Background(), state.CmdMemberPut, state.MemberPut{Member: state.Member{
		ID: "n2", RaftAddr: "10.0.0.2:7060", SIPAddr: "sip:10.0.0.2:7061;transport=tcp", LogVersion: state.LogVersion,
	}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{
		"<sip:alice@10.0.0.1>", "<sip:alice@10.0.0.1:5060>", "<sip:alice@198.51.100.1;maddr=10.0.0.1>",
		"<sip:alice@10.0.0.2:7061>", "<sip:alice@10.0.0.2:7060>",
		"<sip:alice@224.0.1.75>", "<sip:alice@[ff02::1]>", "<sip:alice@255.255.255.255>", "<sip:alice@0.0.0.0:5062>",
	} {
		res := f.do(register(t, "x"+c, 1, "Contact: "+c), "alice@localhost")
		if res.StatusCode != 403 {
			t.Errorf("%s: %d, want 403", c, res.StatusCode)
		}
	}
	if res := f.do(register(t, "y", 1, "Contact: <sip:alice@10.0.0.1>;expires=0"), "alice@localhost"); res.StatusCode != 200 {
		t.Errorf("removal: %d", res.StatusCode)
	}
	if f.st.BindingCount() != 0 {
		t.Fatal("a refused contact was stored")
	}
}

// TestPath: Path (RFC 3327) is stored and echoed only from a trusted
// source; a client's is ignored.
func TestPath(t *testing.T) {
	f := newFixture(t)
	path := "Path: <sip:edge1.example.net;lr>, <sip:10.0.0.9:5070;lr;transport=tcp>"
	req := registerVia(t, "198.51.100.7:5060", "Contact: <sip:alice@192.168.1.5:5060>", path)
	res := f.doFlow(req, Flow{Transport: "UDP", Source: "198.51.100.7:5060"})
	if b := f.st.Bindings("alice@localhost"); res.StatusCode != 200 || len(b) != 1 || b[0].Path != nil || res.GetHeader("Path") != nil {
		t.Fatalf("untrusted Path kept: %d %+v", res.StatusCode, b)
	}
	req = registerVia(t, "198.51.100.7:5060", "Contact: <sip:alice@192.168.1.5:5060>", path)
	req.CSeq().SeqNo = 2
	res = f.doFlow(req, Flow{Transport: "UDP", Source: "198.51.100.7:5060", Trusted: true})
	b := f.st.Bindings("alice@localhost")
	if res.StatusCode != 200 || len(b) != 1 || len(b[0].PathURIs()) != 2 || b[0].PathURIs()[1] != "sip:10.0.0.9:5070;lr;transport=tcp" || b[0].Reach != state.ReachContact {
		t.Fatalf("trusted Path: %d %+v", res.StatusCode, b)
	}
	if h := res.GetHeader("Path"); h == nil || !strings.Contains(h.Value(), "edge1.example.net") {
		t.Fatalf("Path not echoed: %v", h)
	}
}
