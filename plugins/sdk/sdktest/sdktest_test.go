package sdktest

import (
	"context"
	"testing"
	"time"

	"github.com/parley-rtc/parley/plugins/sdk"
)

// TestWatchers: Watchers reaches the App's OnWatchers before it returns,
// as the node would deliver it.
func TestWatchers(t *testing.T) {
	var got []sdk.Watcher
	app := sdk.App{Name: "gw", Handle: func(context.Context, *sdk.Request) sdk.Verdict { return sdk.Continue() },
		OnWatchers: func(_ context.Context, aor string, ws []sdk.Watcher) {
			if aor == "romeo@xmpp.example.net" {
				got = ws
			}
		}}
	p := Start(t, app, nil, nil)
	exp := time.Unix(1700000000, 0)
	if err := p.Watchers("romeo@xmpp.example.net", sdk.Watcher{ID: "d1", Watcher: "bob@example.com", Status: "active", Expires: exp}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Watcher != "bob@example.com" || got[0].Status != "active" || !got[0].Expires.Equal(exp) {
		t.Fatalf("OnWatchers got %+v", got)
	}
	if v, err := p.Handle(Message("alice", "sip:romeo@xmpp.example.net", "hi")); err != nil || v.Action == 0 {
		t.Fatalf("a request after watchers: %+v %v", v, err)
	}
}
