package pipeline

import (
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/plugins/sdk"
)

func TestStripLink(t *testing.T) {
	req := sip.NewRequest(sip.MESSAGE, sip.Uri{Scheme: "sip", User: "bob", Host: "example.com"})
	if got := stripLink(req); got != "" {
		t.Fatalf("no header: %q", got)
	}
	req.AppendHeader(sip.NewHeader(sdk.LinkHeader, " first "))
	req.AppendHeader(sip.NewHeader("x-parley-link", "second"))
	if got := stripLink(req); got != "first" {
		t.Fatalf("token %q, want first", got)
	}
	if req.GetHeader(sdk.LinkHeader) != nil {
		t.Fatal("a copy of the credential is left")
	}
}

func TestLoopbackSource(t *testing.T) {
	for src, want := range map[string]bool{
		"127.0.0.1:5060": true, "127.8.9.1:1": true, "[::1]:5060": true,
		"192.0.2.1:5060": false, "[2001:db8::1]:5060": false, "garbage": false, "": false,
	} {
		if got := loopbackSource(src); got != want {
			t.Errorf("loopbackSource(%q) = %v, want %v", src, got, want)
		}
	}
}
