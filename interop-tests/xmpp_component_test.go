//go:build interop

package interop

import (
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"mellium.im/xmlstream"
	mxmpp "mellium.im/xmpp"

	"github.com/parley-rtc/parley/gateways/xmpp"
)

// TestXMPPComponentLink: the gateway's component link alone (no
// parleyd) against a real Prosody (startProsody, component "gw.test"):
// it connects, a message from a slixmpp user to romeo@gw.test reaches
// it, and the message it sends reaches the user.
func TestXMPPComponentLink(t *testing.T) {
	const secret = "interop-secret"
	pros := startProsody(t, "xmpp.test", "gw.test", secret, map[string]string{"alice": "alicepw"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conf, err := xmpp.ParseSettings(map[string]string{
		"server": fmt.Sprintf("127.0.0.1:%d", pros.comp), "secret-file": pros.secretFile,
		"domains": "xmpp.test", "reconnect-min": "100ms", "reconnect-max": "1s",
	}, []string{"gw.test"})
	if err != nil {
		t.Fatal(err)
	}
	type msg struct{ From, To, Body string }
	got := make(chan msg, 4)
	h := mxmpp.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
		if start.Name.Local != "message" {
			return nil
		}
		var m struct {
			From string `xml:"from,attr"`
			To   string `xml:"to,attr"`
			Body string `xml:"body"`
		}
		if err := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), r)).Decode(&m); err != nil {
			return err
		}
		got <- msg{m.From, m.To, m.Body}
		return nil
	})
	link := xmpp.NewLink(conf, h, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	linkCtx, stopLink := context.WithCancel(ctx)
	linkDone := make(chan error, 1)
	go func() { linkDone <- link.Run(linkCtx) }()
	defer func() { stopLink(); <-linkDone }()
	for !link.State().Connected {
		select {
		case <-link.Changed():
		case <-ctx.Done():
			t.Fatalf("component never connected: %+v", link.State())
		}
	}

	alice := startXMPPUser(t, pros, "alice@xmpp.test/desk", "alicepw")
	alice.cmd(map[string]string{"cmd": "send", "to": "romeo@gw.test", "body": "hello from xmpp é"})
	var in msg
	select {
	case in = <-got:
	case <-ctx.Done():
		t.Fatal("no message reached the component")
	}
	if in.To != "romeo@gw.test" || in.Body != "hello from xmpp é" || !strings.HasPrefix(in.From, "alice@xmpp.test/") {
		t.Fatalf("component got %+v", in)
	}
	reply := fmt.Sprintf(`<message xmlns="jabber:component:accept" from="romeo@gw.test" to=%q type="chat"><body>hello from the gateway</body></message>`, in.From)
	if err := link.Send(ctx, xml.NewDecoder(strings.NewReader(reply))); err != nil {
		t.Fatal(err)
	}
	alice.mustWait("the component's message", 10*time.Second, func(e xmppEvent) bool {
		return e.Ev == "message" && e.From == "romeo@gw.test" && e.Body == "hello from the gateway"
	})
}
