package xmpp

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"mime"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Typing notifications both ways: XEP-0085 chat states on the XMPP side,
// RFC 3994 isComposing status messages (a MESSAGE with an
// application/im-iscomposing+xml body) on the SIP side. XMPP's five
// states fold into RFC 3994's two: <composing/> is "active", <paused/>,
// <active/>, <inactive/> and <gone/> are "idle" (the user is not typing).
// They are fire and forget on both sides: never answered with an error,
// never stored for an offline user (core/offline refuses isComposing),
// never reported by IMDN.

const (
	nsChatStates   = "http://jabber.org/protocol/chatstates"
	nsIsComposing  = "urn:ietf:params:xml:ns:im-iscomposing"
	ctIsComposing  = "application/im-iscomposing+xml"
	composingBytes = 4096 // an isComposing document is a few hundred bytes
)

// composingRefresh is the <refresh/> of an "active" status: the receiver
// falls back to idle when no refresh comes within it (RFC 3994 section
// 3); XMPP sends <composing/> once, so the gateway asks for the longest
// wait RFC 3994 suggests.
const composingRefresh = 120

// anyElement is a child element the message decoder does not know by
// name (chat states among them).
type anyElement struct {
	XMLName xml.Name
}

// ChatState is the message's XEP-0085 state, "" for none.
func (m *inMessage) ChatState() string {
	for _, e := range m.Extra {
		if e.XMLName.Space != nsChatStates {
			continue
		}
		switch e.XMLName.Local {
		case "active", "composing", "paused", "inactive", "gone":
			return e.XMLName.Local
		}
	}
	return ""
}

// isComposingBody is RFC 3994's document for an XEP-0085 state.
func isComposingBody(chatState string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<isComposing xmlns="` + nsIsComposing + `">`)
	if chatState == "composing" {
		fmt.Fprintf(&b, "<state>active</state><contenttype>text/plain</contenttype><refresh>%d</refresh>", composingRefresh)
	} else {
		b.WriteString("<state>idle</state><contenttype>text/plain</contenttype>")
	}
	b.WriteString("</isComposing>")
	return b.Bytes()
}

// isComposingRequest is the SIP MESSAGE carrying an XMPP user's typing
// state.
func isComposingRequest(from, to SIPAddress, callID string, cseq uint32, chatState string) *sip.Request {
	req := newSIPMessage(from, to, callID, cseq)
	req.AppendHeader(sip.NewHeader("Content-Type", ctIsComposing))
	req.SetBody(isComposingBody(chatState))
	return req
}

// isComposing reports whether contentType is RFC 3994's.
func isComposing(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && strings.EqualFold(mt, ctIsComposing)
}

// errBadComposing: an isComposing body that does not parse or has no
// state RFC 3994 defines.
var errBadComposing = fmt.Errorf("%w: not an RFC 3994 isComposing document", ErrBadStanza)

// chatStateFor is the XEP-0085 state for an isComposing document:
// "composing" for active, "paused" for idle.
func chatStateFor(body []byte) (string, error) {
	if len(body) > composingBytes {
		return "", errBadComposing
	}
	var doc struct {
		XMLName xml.Name `xml:"isComposing"`
		State   string   `xml:"state"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil || doc.XMLName.Space != nsIsComposing {
		return "", errBadComposing
	}
	switch strings.TrimSpace(doc.State) {
	case "active":
		return "composing", nil
	case "idle":
		return "paused", nil
	}
	return "", errBadComposing
}
