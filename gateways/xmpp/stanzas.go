package xmpp

import (
	"encoding/xml"
	"errors"
	"fmt"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// Stanza decoding and encoding. mellium's stanza types carry only the
// attributes; the gateway's own types embed them and add the payload it
// reads. Every decoder is bounded (maxStanzaBytes of character data and
// attribute values) and reports malformed input as an error, never a
// panic (FuzzDecodeMessage).

// ErrStanzaTooBig: a stanza carries more text than the gateway reads.
var ErrStanzaTooBig = errors.New("stanza too big")

// ErrBadStanza wraps every decoding error of a stanza.
var ErrBadStanza = errors.New("malformed stanza")

// langText is a <body/> or <subject/>, which may repeat per xml:lang.
type langText struct {
	Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
	Text string `xml:",chardata"`
}

// inMessage is a <message/> as the gateway reads it.
type inMessage struct {
	stanza.Message
	Bodies   []langText    `xml:"body"`
	Subjects []langText    `xml:"subject"`
	Thread   string        `xml:"thread"`
	Err      *stanza.Error `xml:"error"`
	Extra    []anyElement  `xml:",any"` // chat states (chatstates.go), receipts, ...
}

// Body is the body in the message's language (or without one), else the
// first; Subject likewise.
func (m *inMessage) Body() string    { return pick(m.Bodies, m.Lang) }
func (m *inMessage) Subject() string { return pick(m.Subjects, m.Lang) }

func pick(list []langText, lang string) string {
	for _, t := range list {
		if t.Lang == "" || t.Lang == lang {
			return t.Text
		}
	}
	if len(list) > 0 {
		return list[0].Text
	}
	return ""
}

// decodeMessage reads the whole <message/> that start opens from r
// (start already taken from it), reading at most limit bytes of text.
func decodeMessage(start xml.StartElement, r xml.TokenReader, limit int) (inMessage, error) {
	var m inMessage
	lr := &limitReader{r: xmlstream.MultiReader(xmlstream.Token(start), r), left: limit}
	err := xml.NewTokenDecoder(lr).Decode(&m)
	switch {
	case lr.over:
		return m, ErrStanzaTooBig
	case err != nil:
		return m, fmt.Errorf("%w: %v", ErrBadStanza, err)
	}
	if m.Type == "" {
		m.Type = stanza.NormalMessage
	}
	return m, nil
}

// stanzaHead reads what an answer needs from a stanza's start element
// alone: id, from, to (JIDs that do not parse are left empty), and type.
func stanzaHead(start xml.StartElement) (id string, from, to jid.JID, typ string) {
	for _, a := range start.Attr {
		if a.Name.Space != "" && a.Name.Space != start.Name.Space {
			continue
		}
		switch a.Name.Local {
		case "id":
			id = a.Value
		case "type":
			typ = a.Value
		case "from":
			from, _ = jid.Parse(a.Value)
		case "to":
			to, _ = jid.Parse(a.Value)
		}
	}
	return id, from, to, typ
}

// limitReader passes tokens on while their text (character data and
// attribute values) stays within left bytes.
type limitReader struct {
	r    xml.TokenReader
	left int
	over bool
}

func (l *limitReader) Token() (xml.Token, error) {
	if l.over {
		return nil, ErrStanzaTooBig
	}
	t, err := l.r.Token()
	switch v := t.(type) {
	case xml.CharData:
		l.left -= len(v)
	case xml.StartElement:
		for _, a := range v.Attr {
			l.left -= len(a.Value) + len(a.Name.Local) + len(a.Name.Space)
		}
	}
	if l.left < 0 {
		l.over = true
		return nil, ErrStanzaTooBig
	}
	return t, err
}

// outMessage is a <message/> the gateway writes.
type outMessage struct {
	ID, Lang              string
	From, To              jid.JID
	Type                  stanza.MessageType
	Body, Subject, Thread string
	ChatState             string // an XEP-0085 state element, after the body
}

// TokenReader encodes the message. Elements carry no namespace of their
// own, so they take the stream's (jabber:component:accept).
func (m outMessage) TokenReader() xml.TokenReader {
	var inner []xml.TokenReader
	for _, el := range []struct{ name, text string }{{"subject", m.Subject}, {"body", m.Body}, {"thread", m.Thread}} {
		if el.text != "" {
			inner = append(inner, textElement(el.name, el.text))
		}
	}
	if m.ChatState != "" {
		inner = append(inner, xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: nsChatStates, Local: m.ChatState}}))
	}
	return stanza.Message{ID: m.ID, To: m.To, From: m.From, Lang: m.Lang, Type: m.Type}.Wrap(xmlstream.MultiReader(inner...))
}

func textElement(name, text string) xml.TokenReader {
	return xmlstream.Wrap(xmlstream.Token(xml.CharData(text)), xml.StartElement{Name: xml.Name{Local: name}})
}

// errorReply is the error answer to a stanza of kind (message, presence,
// iq): from and to swapped, same id, type error (RFC 6120 section 8.2).
func errorReply(kind, id string, from, to jid.JID, se stanza.Error) xml.TokenReader {
	start := xml.StartElement{Name: xml.Name{Local: kind}, Attr: []xml.Attr{{Name: xml.Name{Local: "type"}, Value: "error"}}}
	if id != "" {
		start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "id"}, Value: id})
	}
	// A component sets from itself (the server takes nothing else).
	start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "from"}, Value: to.String()})
	start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "to"}, Value: from.String()})
	return xmlstream.Wrap(se.TokenReader(), start)
}
