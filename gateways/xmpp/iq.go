package xmpp

import (
	"encoding/xml"
	"runtime"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/stanza"
)

// Namespaces of the IQs the component answers.
const (
	nsDiscoInfo = "http://jabber.org/protocol/disco#info"
	nsPing      = "urn:xmpp:ping"
	nsVersion   = "jabber:iq:version"
)

// features are what disco#info announces.
var features = []string{nsDiscoInfo, nsPing, nsVersion}

// answerIQ answers an <iq/> of type get or set (results and errors are
// for requests the gateway never sends: dropped). payload is the name
// of its first child element. The component itself (no localpart)
// answers disco#info (identity gateway/sip, XEP-0030), ping (XEP-0199)
// and version (XEP-0092); every address answers ping; everything else
// gets <service-unavailable/> (RFC 6120 section 8.4). mellium answers
// nothing for a component stream, so no IQ goes unanswered here.
func (g *Gateway) answerIQ(iq stanza.IQ, payload xml.Name) xml.TokenReader {
	if iq.Type != stanza.GetIQ && iq.Type != stanza.SetIQ {
		return nil
	}
	iq.XMLName = xml.Name{Local: "iq"} // the stream's namespace
	toComponent := iq.To.Localpart() == "" && iq.To.Resourcepart() == ""
	switch {
	case iq.Type == stanza.GetIQ && payload.Space == nsPing && payload.Local == "ping":
		return iq.Result(nil)
	case iq.Type == stanza.GetIQ && toComponent && payload.Space == nsDiscoInfo && payload.Local == "query":
		return iq.Result(discoInfo())
	case iq.Type == stanza.GetIQ && toComponent && payload.Space == nsVersion && payload.Local == "query":
		return iq.Result(versionInfo())
	}
	return iq.Error(stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable})
}

func discoInfo() xml.TokenReader {
	items := []xml.TokenReader{xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Local: "identity"}, Attr: []xml.Attr{
		{Name: xml.Name{Local: "category"}, Value: "gateway"},
		{Name: xml.Name{Local: "type"}, Value: "sip"},
		{Name: xml.Name{Local: "name"}, Value: "Parley SIP gateway"},
	}})}
	for _, f := range features {
		items = append(items, xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Local: "feature"}, Attr: []xml.Attr{{Name: xml.Name{Local: "var"}, Value: f}}}))
	}
	return xmlstream.Wrap(xmlstream.MultiReader(items...), xml.StartElement{Name: xml.Name{Space: nsDiscoInfo, Local: "query"}})
}

func versionInfo() xml.TokenReader {
	return xmlstream.Wrap(xmlstream.MultiReader(
		textElement("name", "Parley XMPP gateway"),
		textElement("version", Version),
		textElement("os", runtime.GOOS),
	), xml.StartElement{Name: xml.Name{Space: nsVersion, Local: "query"}})
}
