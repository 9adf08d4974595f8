package proxy

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// fakeTx records what is responded through it; relayer makes it a
// Relayer too.
type fakeTx struct {
	sip.ServerTransaction
	sent    []*sip.Response
	relayed []*sip.Response
}

func (t *fakeTx) Respond(res *sip.Response) error { t.sent = append(t.sent, res); return nil }

type relayerTx struct{ fakeTx }

func (t *relayerTx) RespondRelayed(res *sip.Response) error {
	t.relayed = append(t.relayed, res)
	return nil
}

func nextHopResponse(t *testing.T) *sip.Response {
	t.Helper()
	raw := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-ours\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-theirs\r\n" +
		"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 2 MESSAGE\r\nContent-Length: 0\r\n\r\n"
	msg, err := sip.NewParser().ParseSIP([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return msg.(*sip.Response)
}

// TestRelay: a transaction that relays itself gets the next hop's
// response as it is (it drops our Via as it writes); any other gets a
// copy without our Via, rewritten when the target asks, and the next
// hop's response is never changed.
func TestRelay(t *testing.T) {
	res := nextHopResponse(t)
	before := res.String()

	rt := &relayerTx{}
	if err := relay(rt, res, nil); err != nil {
		t.Fatal(err)
	}
	if len(rt.relayed) != 1 || rt.relayed[0] != res || len(rt.sent) != 0 {
		t.Fatalf("a Relayer got relayed %d, sent %d", len(rt.relayed), len(rt.sent))
	}

	rewrite := func(r *sip.Response) { r.AppendHeader(sip.NewHeader("X-Rewritten", "1")) }
	for _, tc := range []struct {
		name    string
		tx      interface{ sentList() []*sip.Response }
		rewrite func(*sip.Response)
	}{
		{"plain transaction", &plainTx{}, nil},
		{"plain transaction, rewritten", &plainTx{}, rewrite},
		{"relayer, rewritten", &relayerList{}, rewrite},
	} {
		if err := relay(tc.tx.(sip.ServerTransaction), res, tc.rewrite); err != nil {
			t.Fatal(err)
		}
		sent := tc.tx.sentList()
		if len(sent) != 1 {
			t.Fatalf("%s: sent %d responses", tc.name, len(sent))
		}
		out := sent[0].String()
		if strings.Contains(out, "z9hG4bK-ours") || !strings.Contains(out, "z9hG4bK-theirs") {
			t.Fatalf("%s: relayed Vias wrong:\n%s", tc.name, out)
		}
		if got := sent[0].GetHeader("X-Rewritten") != nil; got != (tc.rewrite != nil) {
			t.Fatalf("%s: rewritten %v", tc.name, got)
		}
	}
	if res.String() != before {
		t.Fatal("the next hop's response was changed")
	}
}

type plainTx struct{ fakeTx }

func (t *plainTx) sentList() []*sip.Response { return t.sent }

type relayerList struct{ relayerTx }

func (t *relayerList) sentList() []*sip.Response { return t.sent }
