package node

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func TestNodeCancelPropagates(t *testing.T) {
	n := startNode(t)
	n.addUser(t, "alice", "wonder")
	n.addUser(t, "bob", "builder")
	alice, bob := newUA(t, "alice"), newUA(t, "bob")
	if res := bob.register(t, n, "bob", "builder"); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "bob", Host: "localhost"})
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "localhost"}, Params: tagParams()})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: alice.port}})
	req.SetDestination(n.sip)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	res, err := alice.client.Do(ctx, req)
	if err != nil || res.StatusCode != 407 {
		t.Fatalf("first INVITE: %v %v", res, err)
	}
	tx, err := alice.client.TransactionDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "alice", Password: "wonder"})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Terminate()
	waitFor := func(code int) {
		t.Helper()
		for {
			select {
			case r := <-tx.Responses():
				if r.StatusCode == code {
					return
				}
				if r.StatusCode >= 200 {
					t.Fatalf("got %d waiting for %d", r.StatusCode, code)
				}
			case <-tx.Done():
				t.Fatalf("invite ended waiting for %d: %v", code, tx.Err())
			case <-ctx.Done():
				t.Fatalf("no %d", code)
			}
		}
	}
	waitFor(180)

	c := sip.NewRequest(sip.CANCEL, req.Recipient)
	c.AppendHeader(sip.HeaderClone(req.Via()))
	c.AppendHeader(sip.HeaderClone(req.From()))
	c.AppendHeader(sip.HeaderClone(req.To()))
	c.AppendHeader(sip.HeaderClone(req.CallID()))
	c.AppendHeader(&sip.CSeqHeader{SeqNo: req.CSeq().SeqNo, MethodName: sip.CANCEL})
	mf := sip.MaxForwardsHeader(70)
	c.AppendHeader(&mf)
	c.SetDestination(n.sip)
	c.Laddr = req.Laddr
	ctr, err := alice.client.TransactionRequest(ctx, c, func(*sipgo.Client, *sip.Request) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer ctr.Terminate()
	select {
	case r := <-ctr.Responses():
		if r.StatusCode != 200 {
			t.Fatalf("CANCEL answered %d", r.StatusCode)
		}
	case <-ctx.Done():
		t.Fatal("CANCEL unanswered")
	}
	waitFor(487)
	select {
	case <-bob.cancels:
	case <-time.After(5 * time.Second):
		t.Fatal("CANCEL not propagated to bob")
	}
}
