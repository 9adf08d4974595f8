package xmpp

import (
	"context"
	"strings"
	"testing"
	"time"
)

// composingDoc is on one line: sipRequest turns "\n" into CRLF.
const composingDoc = `<?xml version="1.0" encoding="UTF-8"?><isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>%s</state><contenttype>text/plain</contenttype></isComposing>`

// TestIsComposingToChatState: our user's RFC 3994 status becomes a
// bodiless XEP-0085 chat state, and nothing waits for an error on it.
func TestIsComposingToChatState(t *testing.T) {
	for _, tc := range []struct {
		name, ct, body string
		code           int
		want           string
	}{
		{"active", "application/im-iscomposing+xml", strings.Replace(composingDoc, "%s", "active", 1), 200, `<composing xmlns="http://jabber.org/protocol/chatstates">`},
		{"idle", "Application/IM-isComposing+XML; charset=utf-8", strings.Replace(composingDoc, "%s", " idle ", 1), 200, `<paused xmlns="http://jabber.org/protocol/chatstates">`},
		{"unknown state", "application/im-iscomposing+xml", strings.Replace(composingDoc, "%s", "typing", 1), 400, ""},
		{"wrong namespace", "application/im-iscomposing+xml", `<isComposing><state>active</state></isComposing>`, 400, ""},
		{"not xml", "application/im-iscomposing+xml", `active`, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, link, _ := testGateway(t, testConfig(), 200)
			v := g.Handle(context.Background(), sipRequest(t, message("sip:juliet@xmpp.test", "Content-Type: "+tc.ct+"\n", tc.body)))
			if code := int(v.Proto().GetCode()); code != tc.code {
				t.Fatalf("verdict %v, want %d", v.Proto(), tc.code)
			}
			if tc.code != 200 {
				if len(link.sent) != 0 {
					t.Fatalf("sent %q", link.sent)
				}
				return
			}
			s := link.next(t)
			for _, w := range []string{tc.want, `type="chat"`, `to="juliet@xmpp.test"`, `<thread>cid-1@gw.test</thread>`} {
				if !strings.Contains(s, w) {
					t.Errorf("stanza %s lacks %s", s, w)
				}
			}
			if strings.Contains(s, "<body") {
				t.Errorf("a typing notification with a body: %s", s)
			}
			if _, pending := g.state().pending.take(idOf(s)); pending {
				t.Error("a typing notification waits for an IMDN")
			}
		})
	}
}

// idOf is the id attribute of a stanza written as a string.
func idOf(s string) string {
	_, rest, ok := strings.Cut(s, ` id="`)
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, `"`)
	return id
}

// TestChatStateToIsComposing: an XMPP user's bodiless chat state becomes
// an RFC 3994 isComposing MESSAGE; composing is active with a refresh,
// the other states idle; a message with a body is just the message.
func TestChatStateToIsComposing(t *testing.T) {
	for _, tc := range []struct{ state, want string }{
		{"composing", "<state>active</state>"},
		{"paused", "<state>idle</state>"},
		{"active", "<state>idle</state>"},
		{"gone", "<state>idle</state>"},
	} {
		t.Run(tc.state, func(t *testing.T) {
			g, _, host := testGateway(t, testConfig(), 200)
			out := handle(t, g, `<message type="chat" `+fromJuliet+`><thread>th-1</thread><`+tc.state+` xmlns="http://jabber.org/protocol/chatstates"/></message>`)
			if out != "" {
				t.Fatalf("answered %q", out)
			}
			req := host.next(t)
			if ct := req.GetHeader("Content-Type"); ct == nil || ct.Value() != "application/im-iscomposing+xml" {
				t.Fatalf("Content-Type %v", ct)
			}
			body := string(req.Body())
			if !strings.Contains(body, tc.want) || !strings.Contains(body, `xmlns="urn:ietf:params:xml:ns:im-iscomposing"`) {
				t.Fatalf("body %s lacks %s", body, tc.want)
			}
			if tc.state == "composing" && !strings.Contains(body, "<refresh>") {
				t.Errorf("active without refresh: %s", body)
			}
			if cs, err := chatStateFor(req.Body()); err != nil || (tc.state == "composing") != (cs == "composing") {
				t.Errorf("our own document reads back as %q, %v", cs, err)
			}
		})
	}
	t.Run("with a body", func(t *testing.T) {
		g, _, host := testGateway(t, testConfig(), 200)
		handle(t, g, `<message type="chat" `+fromJuliet+`><body>hi</body><active xmlns="http://jabber.org/protocol/chatstates"/></message>`)
		req := host.next(t)
		if string(req.Body()) != "hi" {
			t.Fatalf("body %q", req.Body())
		}
		select {
		case r := <-host.reqs:
			t.Fatalf("a second request for one message: %s", r.Body())
		case <-time.After(50 * time.Millisecond):
		}
	})
}
