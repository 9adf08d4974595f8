package xcap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits applied to every document and fragment parsed (besides
// Config.MaxBody): documents are small, so anything larger is hostile.
const (
	maxDepth    = 32
	maxElements = 20000
	maxAttrs    = 64
)

// Namespaces bound without declaration.
const (
	xmlNamespace   = "http://www.w3.org/XML/1998/namespace"
	xmlnsNamespace = "http://www.w3.org/2000/xmlns/"
)

type nodeKind uint8

const (
	elementNode nodeKind = iota
	textNode
	commentNode
	procInstNode
)

// node is one node of a parsed document. Elements keep their prefixes and
// namespace declarations as written, so a document re-serializes the way
// it came in; space is the resolved namespace.
type node struct {
	kind          nodeKind
	prefix, local string // element name as written
	space         string // element namespace
	attrs         []attr // including xmlns declarations
	children      []*node
	parent        *node
	data          string // text, comment, processing instruction
	target        string // processing instruction target
}

// attr is one attribute; space is resolved (empty for unprefixed ones).
type attr struct {
	prefix, local, space, value string
}

func (a attr) isNSDecl() bool {
	return a.prefix == "xmlns" || (a.prefix == "" && a.local == "xmlns")
}

// document is a parsed XML document: the root element and the comments and
// processing instructions around it (the XML declaration is not kept).
type document struct {
	prolog, epilog []*node
	root           *node
}

// lookupNS resolves prefix ("" for the default namespace) in the scope of
// n: ok=false for an undeclared prefix.
func (n *node) lookupNS(prefix string) (string, bool) {
	if prefix == "xml" {
		return xmlNamespace, true
	}
	for e := n; e != nil; e = e.parent {
		for _, a := range e.attrs {
			if (prefix == "" && a.prefix == "" && a.local == "xmlns") ||
				(prefix != "" && a.prefix == "xmlns" && a.local == prefix) {
				return a.value, true
			}
		}
	}
	return "", prefix == ""
}

// attr returns the value of the attribute space:local.
func (n *node) attr(space, local string) (string, bool) {
	for _, a := range n.attrs {
		if a.local == local && a.space == space && !a.isNSDecl() {
			return a.value, true
		}
	}
	return "", false
}

// elements returns n's element children.
func (n *node) elements() []*node {
	var out []*node
	for _, c := range n.children {
		if c.kind == elementNode {
			out = append(out, c)
		}
	}
	return out
}

// text returns the concatenated text children of n.
func (n *node) text() string {
	var b strings.Builder
	for _, c := range n.children {
		if c.kind == textNode {
			b.WriteString(c.data)
		}
	}
	return b.String()
}

// is reports whether n is the element space:local.
func (n *node) is(space, local string) bool {
	return n != nil && n.kind == elementNode && n.local == local && n.space == space
}

// index returns the position of child c in n.children, or -1.
func (n *node) index(c *node) int {
	for i, x := range n.children {
		if x == c {
			return i
		}
	}
	return -1
}

// qname returns the element name as written.
func (n *node) qname() string {
	if n.prefix == "" {
		return n.local
	}
	return n.prefix + ":" + n.local
}

// parseDocument parses a complete document (one root element).
func parseDocument(data []byte) (*document, error) {
	p, err := newParser(data, nil)
	if err != nil {
		return nil, err
	}
	if err := p.run(); err != nil {
		return nil, err
	}
	if p.doc.root == nil {
		return nil, newConflict(condNotWellFormed, "no root element")
	}
	return p.doc, nil
}

// parseFragment parses the body of an element PUT: exactly one element,
// whose prefixes resolve in the scope of ctx (its future parent).
func parseFragment(data []byte, ctx *node) (*node, error) {
	p, err := newParser(data, ctx)
	if err != nil {
		return nil, err
	}
	if err := p.run(); err != nil {
		var c *conflict
		if errors.As(err, &c) && c.cond == condNotWellFormed {
			c.cond = condNotFragment
		}
		return nil, err
	}
	if p.doc.root == nil || len(p.doc.prolog)+len(p.doc.epilog) > 0 {
		return nil, newConflict(condNotFragment, "the body must be exactly one element")
	}
	p.doc.root.parent = nil
	return p.doc.root, nil
}

type parser struct {
	d     *xml.Decoder
	doc   *document
	ctx   *node // scope outside the fragment
	cur   *node // open element, nil at top level
	depth int
	count int
	first bool // no token seen yet
}

var errEncoding = errors.New("not UTF-8")

func newParser(data []byte, ctx *node) (*parser, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, newConflict(condNotUTF8, "the body is not valid UTF-8")
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "us-ascii") {
			return r, nil // a subset of UTF-8, checked above
		}
		return nil, errEncoding
	}
	depth := 0 // a fragment starts as deep as its future parent
	for e := ctx; e != nil; e = e.parent {
		depth++
	}
	return &parser{d: d, doc: &document{}, ctx: ctx, first: true, depth: depth}, nil
}

func (p *parser) run() error {
	for {
		tok, err := p.d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, errEncoding) {
				return newConflict(condNotUTF8, "only UTF-8 documents are accepted")
			}
			return newConflict(condNotWellFormed, "%s", strings.TrimPrefix(err.Error(), "xml: "))
		}
		first := p.first
		p.first = false
		switch t := tok.(type) {
		case xml.ProcInst:
			if strings.EqualFold(t.Target, "xml") {
				if !first || t.Target != "xml" {
					return newConflict(condNotWellFormed, "misplaced XML declaration")
				}
				continue
			}
			p.add(&node{kind: procInstNode, target: t.Target, data: string(t.Inst)})
		case xml.Directive:
			return newConflict(condNotWellFormed, "DTDs and other directives are not allowed")
		case xml.Comment:
			p.add(&node{kind: commentNode, data: string(t)})
		case xml.CharData:
			if p.cur == nil {
				if len(bytes.TrimLeft(t, " \t\r\n")) > 0 {
					return newConflict(condNotWellFormed, "text outside the root element")
				}
				continue
			}
			p.addText(string(t))
		case xml.StartElement:
			if err := p.start(t); err != nil {
				return err
			}
		case xml.EndElement:
			if p.cur == nil || t.Name.Space != p.cur.prefix || t.Name.Local != p.cur.local {
				return newConflict(condNotWellFormed, "unexpected end element </%s>", rawName(t.Name))
			}
			p.cur, p.depth = p.cur.parent, p.depth-1
			if p.cur == p.ctx {
				p.cur = nil
			}
		}
	}
	if p.cur != nil {
		return newConflict(condNotWellFormed, "unclosed element <%s>", p.cur.qname())
	}
	return nil
}

// add appends a non-element node where it belongs.
func (p *parser) add(n *node) {
	switch {
	case p.cur != nil:
		n.parent = p.cur
		p.cur.children = append(p.cur.children, n)
	case p.doc.root == nil:
		p.doc.prolog = append(p.doc.prolog, n)
	default:
		p.doc.epilog = append(p.doc.epilog, n)
	}
}

func (p *parser) addText(s string) {
	if k := len(p.cur.children); k > 0 && p.cur.children[k-1].kind == textNode {
		p.cur.children[k-1].data += s
		return
	}
	p.add(&node{kind: textNode, data: s})
}

func (p *parser) start(t xml.StartElement) error {
	if p.cur == nil && p.doc.root != nil {
		return newConflict(condNotWellFormed, "more than one root element")
	}
	p.depth++
	p.count++
	switch {
	case p.depth > maxDepth:
		return newConflict(condNotWellFormed, "elements nested deeper than %d", maxDepth)
	case p.count > maxElements:
		return newConflict(condNotWellFormed, "more than %d elements", maxElements)
	case len(t.Attr) > maxAttrs:
		return newConflict(condNotWellFormed, "more than %d attributes on <%s>", maxAttrs, rawName(t.Name))
	}
	if !validQName(t.Name) {
		return newConflict(condNotWellFormed, "invalid element name %q", rawName(t.Name))
	}
	n := &node{kind: elementNode, prefix: t.Name.Space, local: t.Name.Local, parent: p.cur}
	if p.cur == nil {
		n.parent = p.ctx // a fragment's prefixes resolve in its future parent
	}
	for _, a := range t.Attr {
		if !validQName(a.Name) {
			return newConflict(condNotWellFormed, "invalid attribute name %q", rawName(a.Name))
		}
		n.attrs = append(n.attrs, attr{prefix: a.Name.Space, local: a.Name.Local, value: a.Value})
	}
	if err := resolve(n); err != nil {
		return err
	}
	if p.cur == nil {
		p.doc.root = n
	} else {
		p.cur.children = append(p.cur.children, n)
	}
	p.cur = n
	return nil
}

// resolve checks n's namespace declarations, resolves its name and its
// attributes' names and rejects duplicate attributes.
func resolve(n *node) error {
	for _, a := range n.attrs {
		switch {
		case a.prefix == "xmlns" && (a.local == "xmlns" || (a.local == "xml") != (a.value == xmlNamespace)):
			return newConflict(condNotWellFormed, "reserved prefix %q", a.local)
		case a.prefix == "xmlns" && a.value == "":
			return newConflict(condNotWellFormed, "prefix %q bound to the empty namespace", a.local)
		case a.isNSDecl() && (a.value == xmlnsNamespace || (a.value == xmlNamespace && a.local != "xml")):
			return newConflict(condNotWellFormed, "reserved namespace %q", a.value)
		}
	}
	space, ok := n.lookupNS(n.prefix)
	if !ok {
		return newConflict(condNotWellFormed, "undeclared prefix %q", n.prefix)
	}
	if n.prefix == "xmlns" {
		return newConflict(condNotWellFormed, "element named with prefix xmlns")
	}
	n.space = space
	for i := range n.attrs {
		a := &n.attrs[i]
		if a.isNSDecl() || a.prefix == "" {
			continue
		}
		if a.space, ok = n.lookupNS(a.prefix); !ok {
			return newConflict(condNotWellFormed, "undeclared prefix %q", a.prefix)
		}
	}
	for i, a := range n.attrs {
		for _, b := range n.attrs[:i] {
			if (a.prefix == b.prefix && a.local == b.local) ||
				(!a.isNSDecl() && !b.isNSDecl() && a.space == b.space && a.local == b.local) {
				return newConflict(condNotWellFormed, "duplicate attribute %q", a.local)
			}
		}
	}
	return nil
}

func rawName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// validQName: encoding/xml accepts names such as "a:" or ":b" as a local
// name with a colon, which namespaces do not allow.
func validQName(n xml.Name) bool {
	return n.Local != "" && !strings.Contains(n.Local, ":") && !strings.Contains(n.Space, ":")
}
