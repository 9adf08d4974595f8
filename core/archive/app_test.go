package archive

import (
	"context"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/core/chain"
	"github.com/parley-rtc/parley/plugins/contract"
)

// The archive application is tested as a plugin is: a request in, a
// verdict out (and here, an entry in the archive).
func TestAppRecordsMessagesAndContinues(t *testing.T) {
	a, err := Open(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	app := &App{Archive: a, Node: "n1"}
	for _, m := range []sip.RequestMethod{sip.MESSAGE, sip.INVITE} {
		req := sip.NewRequest(m, sip.Uri{Scheme: "sip", User: "bob", Host: "example.com"})
		req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "example.com"}, Params: sip.NewParams()})
		req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: "example.com"}, Params: sip.NewParams()})
		cid := sip.CallIDHeader("c-" + string(m))
		req.AppendHeader(&cid)
		req.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
		req.SetBody([]byte("hello " + string(m)))
		v, err := app.Handle(context.Background(), &chain.Request{Request: contract.Request{Req: req}})
		if err != nil || v.Action != contract.Continue || v.Chosen {
			t.Fatalf("%s: verdict %s chosen %v, error %v", m, v.Action, v.Chosen, err)
		}
	}
	got, err := a.Search(Query{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Method != "MESSAGE" || got[0].Node != "n1" || got[0].Body != "hello MESSAGE" || got[0].ContentType != "text/plain" {
		t.Fatalf("archived %+v, want the MESSAGE only", got)
	}
	if v, err := (&App{}).Handle(context.Background(), &chain.Request{Request: contract.Request{Req: sip.NewRequest(sip.MESSAGE, sip.Uri{})}}); err != nil || v.Action != contract.Continue {
		t.Fatalf("no archive: %s %v", v.Action, err)
	}
}
