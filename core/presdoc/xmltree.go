package presdoc

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// node is one element of a parsed document: its name, attributes, direct
// text and child elements.
type node struct {
	space, local string
	attrs        []xml.Attr
	text         []byte
	kids         []*node
}

// is reports whether n is the element local in namespace space.
func (n *node) is(space, local string) bool { return n.space == space && n.local == local }

// attr returns the unqualified attribute name.
func (n *node) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// trimmed is n's own text without surrounding space.
func (n *node) trimmed() string { return strings.TrimSpace(string(n.text)) }

type limits struct{ bytes, elements, depth int }

var (
	pidfLimits = limits{MaxPIDFBytes, MaxPIDFElements, MaxDepth}
	listLimits = limits{MaxListBytes, MaxListElements, MaxDepth}
)

func malformed(format string, args ...any) error {
	return fmt.Errorf(errorPfx+format+": %w", append(args, ErrMalformed)...)
}

// parseTree reads body into a tree within lim. It refuses DOCTYPEs and any
// other declaration before looking further, so no entity is ever defined,
// and stops at the first element past the limits.
func parseTree(body []byte, lim limits) (*node, error) {
	if len(body) > lim.bytes {
		return nil, fmt.Errorf(errorPfx+"body of %d bytes exceeds %d: %w", len(body), lim.bytes, ErrTooLarge)
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.CharsetReader = charsetReader
	var root *node
	var stack []*node
	elements := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, malformed("%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, malformed("content after the root element")
			}
			if elements++; elements > lim.elements {
				return nil, fmt.Errorf(errorPfx+"more than %d elements: %w", lim.elements, ErrTooLarge)
			}
			if len(stack) >= lim.depth {
				return nil, malformed("elements nested deeper than %d", lim.depth)
			}
			n := &node{space: t.Name.Space, local: t.Name.Local, attrs: t.Attr}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.kids = append(top.kids, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.text = append(top.text, t...)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, malformed("text outside the root element")
			}
		case xml.Directive:
			return nil, malformed("DOCTYPE and other declarations are not allowed")
		}
	}
	if root == nil {
		return nil, malformed("no root element")
	}
	if len(stack) > 0 {
		return nil, malformed("unclosed element %s", stack[len(stack)-1].local)
	}
	return root, nil
}

// charsetReader accepts the single-byte charsets old clients declare;
// everything else must be UTF-8.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf8":
		return in, nil
	case "iso-8859-1", "iso8859-1", "latin1", "us-ascii", "ascii":
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b)+len(b)/4)
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("unsupported charset %q", label)
}

// writer builds an indented XML document.
type writer struct {
	b     bytes.Buffer
	depth int
}

func newWriter() *writer {
	w := &writer{}
	w.b.WriteString(xmlDecl)
	return w
}

func (w *writer) indent() {
	for range w.depth {
		w.b.WriteString("  ")
	}
}

// tag writes name and its attributes, given as name, value pairs; pairs
// with an empty value are left out.
func (w *writer) tag(name string, attrs []string) {
	w.indent()
	w.b.WriteByte('<')
	w.b.WriteString(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] == "" {
			continue
		}
		w.b.WriteByte(' ')
		w.b.WriteString(attrs[i])
		w.b.WriteString(`="`)
		escape(&w.b, attrs[i+1])
		w.b.WriteByte('"')
	}
}

// open starts an element that will have children.
func (w *writer) open(name string, attrs ...string) {
	w.tag(name, attrs)
	w.b.WriteString(">\n")
	w.depth++
}

// close ends the element open started.
func (w *writer) close(name string) {
	w.depth--
	w.indent()
	w.b.WriteString("</" + name + ">\n")
}

// empty writes an element without content.
func (w *writer) empty(name string, attrs ...string) {
	w.tag(name, attrs)
	w.b.WriteString("/>\n")
}

// leaf writes an element holding text.
func (w *writer) leaf(name, text string, attrs ...string) {
	w.tag(name, attrs)
	w.b.WriteByte('>')
	escape(&w.b, text)
	w.b.WriteString("</" + name + ">\n")
}

func (w *writer) bytes() []byte { return w.b.Bytes() }

// escape writes s as XML character data, valid in text and in
// double-quoted attributes; characters XML cannot carry become U+FFFD.
func escape(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s))
}
