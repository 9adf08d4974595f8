package xmpp

import (
	"encoding/xml"
	"io"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/stanza"
)

// HandleXMPP is the component link's handler: every stanza from the
// server comes here, inside the session's Serve loop. It answers what it
// can at once with the TokenReadEncoder it is given (never the session's
// Send: that deadlocks) and hands messages for our users to a goroutine
// (xmpp2sip.go), which answers through Link.Send once SIP has answered.
// It never returns an error for a bad stanza (that would end the stream):
// malformed ones get <bad-request/>.
func (g *Gateway) HandleXMPP(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	st, t := g.state(), g.m.inbound(t, start)
	var reply xml.TokenReader
	switch start.Name.Local {
	case "message":
		reply = g.message(st, *start, t)
	case "iq":
		reply = g.iq(*start, t)
	case "presence":
		g.presence(st, *start, t) // queued; nothing is answered at once
	}
	if reply == nil {
		return nil
	}
	_, err := xmlstream.Copy(t, g.m.outbound(reply))
	return err
}

// iq reads the first child's name and answers (iq.go).
func (g *Gateway) iq(start xml.StartElement, r xml.TokenReader) xml.TokenReader {
	iq, err := stanza.NewIQ(start)
	if err != nil {
		id, from, to, typ := stanzaHead(start)
		if typ == "get" || typ == "set" {
			return errorReply("iq", id, from, to, stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest})
		}
		return nil
	}
	var payload xml.Name
	for i := 0; i < 64; i++ { // skip whitespace and comments, bounded
		tok, err := r.Token()
		if err != nil && (err != io.EOF || tok == nil) {
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			payload = se.Name
			break
		}
	}
	return g.answerIQ(iq, payload)
}
