package xcap

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

const xmlDecl = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// bytes serializes d with an XML declaration.
func (d *document) bytes() []byte {
	var b bytes.Buffer
	b.WriteString(xmlDecl)
	for _, n := range d.prolog {
		writeNode(&b, n)
		b.WriteByte('\n')
	}
	writeNode(&b, d.root)
	b.WriteByte('\n')
	for _, n := range d.epilog {
		writeNode(&b, n)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// elementBytes serializes one element as it appears in its document.
func elementBytes(n *node) []byte {
	var b bytes.Buffer
	writeNode(&b, n)
	return b.Bytes()
}

func writeNode(b *bytes.Buffer, n *node) {
	switch n.kind {
	case textNode:
		escapeText(b, n.data)
	case commentNode:
		b.WriteString("<!--")
		b.WriteString(n.data)
		b.WriteString("-->")
	case procInstNode:
		b.WriteString("<?")
		b.WriteString(n.target)
		if n.data != "" {
			b.WriteByte(' ')
			b.WriteString(n.data)
		}
		b.WriteString("?>")
	case elementNode:
		b.WriteByte('<')
		b.WriteString(n.qname())
		writeAttrs(b, n.attrs)
		if len(n.children) == 0 {
			b.WriteString("/>")
			return
		}
		b.WriteByte('>')
		for _, c := range n.children {
			writeNode(b, c)
		}
		b.WriteString("</")
		b.WriteString(n.qname())
		b.WriteByte('>')
	}
}

func writeAttrs(b *bytes.Buffer, attrs []attr) {
	for _, a := range attrs {
		b.WriteByte(' ')
		if a.prefix != "" {
			b.WriteString(a.prefix)
			b.WriteByte(':')
		}
		b.WriteString(a.local)
		b.WriteString(`="`)
		escapeAttr(b, a.value)
		b.WriteByte('"')
	}
}

// escapeText escapes character data.
func escapeText(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteByte(c)
		}
	}
}

// escapeAttr escapes an attribute value for double quotes, keeping
// whitespace characters that attribute normalization would otherwise eat.
func escapeAttr(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\t':
			b.WriteString("&#x9;")
		case '\n':
			b.WriteString("&#xA;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteByte(c)
		}
	}
}

// isXMLChar reports whether r may appear in an XML 1.0 document.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}

// toValidText drops whatever cannot appear in XML (invalid UTF-8 and
// characters outside the XML range), for text that comes from outside.
func toValidText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !isXMLChar(r) {
			return -1
		}
		return r
	}, s)
}
