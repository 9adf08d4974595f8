package main

import (
	"testing"

	"github.com/parley-rtc/parley/plugins/contract"
	"github.com/parley-rtc/parley/plugins/sdk/sdktest"
)

func TestFilter(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		req      string
		action   contract.Action
		code     int
		body     string
	}{
		{"clean", map[string]string{"words": "secret"}, sdktest.Message("alice", "sip:bob@example.com", "hello"), contract.Continue, 0, ""},
		{"blocked", map[string]string{"words": "secret, password"}, sdktest.Message("alice", "sip:bob@example.com", "my Password is x"), contract.Respond, 403, ""},
		{"whole words only", map[string]string{"words": "pass"}, sdktest.Message("alice", "sip:bob@example.com", "passport"), contract.Continue, 0, ""},
		{"dropped", map[string]string{"words": "spam", "mode": "drop"}, sdktest.Message("alice", "sip:bob@example.com", "buy spam"), contract.Drop, 0, ""},
		{"rewritten", map[string]string{"words": "darn", "mode": "rewrite"}, sdktest.Message("alice", "sip:bob@example.com", "darn it, Darn"), contract.Continue, 0, "**** it, ****"},
		{"no words", nil, sdktest.Message("alice", "sip:bob@example.com", "secret"), contract.Continue, 0, ""},
		{"not text", map[string]string{"words": "secret"}, sdktest.Request("MESSAGE", "alice", "sip:bob@example.com", "application/im-iscomposing+xml", "secret"), contract.Continue, 0, ""},
		{"other method", map[string]string{"words": "secret"}, sdktest.Request("INFO", "alice", "sip:bob@example.com", "text/plain", "secret"), contract.Continue, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := sdktest.Start(t, New(), tt.settings, nil)
			v, err := p.Handle(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if v.Action != tt.action || v.Code != tt.code {
				t.Fatalf("verdict %+v", v)
			}
			if tt.body != "" && (!v.SetBody || string(v.Body) != tt.body || v.ContentType != "text/plain") {
				t.Fatalf("rewritten body %q (%v)", v.Body, v.SetBody)
			}
		})
	}
}

func TestBadMode(t *testing.T) {
	if _, err := parse("x", "shred"); err == nil {
		t.Fatal("unknown mode accepted")
	}
}
