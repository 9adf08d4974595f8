package xcap

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Entry is one contact of a resource-lists document.
type Entry struct {
	URI         string
	DisplayName string
	// Groups are the names of the lists that enclose the entry, outermost
	// first; for a URI listed several times, of all of them.
	Groups []string
}

const rl = NamespaceResourceLists

// validateResourceLists checks the RFC 4826 schema (section 3.2) loosely
// (elements of other namespaces are let through where the schema has
// xs:any) and its uniqueness constraints (section 3.4.5).
func validateResourceLists(d *document) error {
	root := d.root
	if !root.is(rl, "resource-lists") {
		return newConflict(condSchema, "the root element must be <resource-lists> in namespace %s", rl)
	}
	if err := checkElementOnly(root); err != nil {
		return err
	}
	for _, c := range root.elements() {
		if !c.is(rl, "list") {
			return newConflict(condSchema, "<resource-lists> may only contain <list>, not <%s>", c.qname())
		}
		if err := validateList(c); err != nil {
			return err
		}
	}
	return unique(root, rl, "list", "name", rl)
}

func validateList(l *node) error {
	if err := checkElementOnly(l); err != nil {
		return err
	}
	for i, c := range l.elements() {
		if c.space != rl {
			continue
		}
		var err error
		switch c.local {
		case "display-name":
			if i != 0 {
				return newConflict(condSchema, "<display-name> must come first in <list>")
			}
			err = checkTextOnly(c)
		case "list":
			err = validateList(c)
		case "entry":
			err = validateLeaf(c, "uri")
		case "entry-ref":
			err = validateLeaf(c, "ref")
		case "external":
			err = validateLeaf(c, "anchor")
		default:
			err = newConflict(condSchema, "<%s> is not allowed in <list>", c.qname())
		}
		if err != nil {
			return err
		}
	}
	for _, u := range [...][2]string{{"list", "name"}, {"entry", "uri"}, {"entry-ref", "ref"}, {"external", "anchor"}} {
		if err := unique(l, rl, u[0], u[1], rl); err != nil {
			return err
		}
	}
	return nil
}

// validateLeaf checks an entry, entry-ref or external element: its
// required attribute and an optional leading display-name.
func validateLeaf(e *node, required string) error {
	v, ok := e.attr("", required)
	if !ok || strings.TrimSpace(v) == "" {
		return newConflict(condSchema, "<%s> needs a %s attribute", e.qname(), required)
	}
	if required == "uri" && !hasScheme(v) {
		return newConflict(condConstraint, "entry uri %q is not an absolute URI", v)
	}
	if err := checkElementOnly(e); err != nil {
		return err
	}
	for i, c := range e.elements() {
		if c.space != rl {
			continue
		}
		if c.local != "display-name" || i != 0 {
			return newConflict(condSchema, "<%s> is not allowed in <%s>", c.qname(), e.qname())
		}
		if err := checkTextOnly(c); err != nil {
			return err
		}
	}
	return nil
}

// hasScheme reports whether s starts with a URI scheme and a colon.
func hasScheme(s string) bool {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return false
	}
	for j, c := range s[:i] {
		alpha := ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if !alpha && (j == 0 || !(('0' <= c && c <= '9') || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// displayName returns the trimmed text of e's rl:display-name child.
func displayName(e *node) string {
	for _, c := range e.elements() {
		if c.is(rl, "display-name") {
			return strings.TrimSpace(c.text())
		}
	}
	return ""
}

// ParseResourceLists returns the entries of a resource-lists document
// (RFC 4826), nested lists flattened: each distinct entry URI once, in
// document order, with the name attributes of all the lists enclosing any
// of its occurrences as Groups and its first non-empty display-name.
// Unnamed lists add no group; entry-ref and external elements are accepted
// and ignored. A document that is not well formed or breaks the schema
// yields an error wrapping ErrInvalidDocument.
func ParseResourceLists(body []byte) ([]Entry, error) {
	d, err := parseDocument(body)
	if err != nil {
		return nil, err
	}
	if err := validateResourceLists(d); err != nil {
		return nil, err
	}
	var out []Entry
	index := map[string]int{}
	var walk func(l *node, groups []string)
	walk = func(l *node, groups []string) {
		if name, _ := l.attr("", "name"); name != "" && !slices.Contains(groups, name) {
			groups = append(groups[:len(groups):len(groups)], name)
		}
		for _, c := range l.elements() {
			switch {
			case c.is(rl, "list"):
				walk(c, groups)
			case c.is(rl, "entry"):
				uri, _ := c.attr("", "uri")
				i, ok := index[uri]
				if !ok {
					i = len(out)
					index[uri] = i
					out = append(out, Entry{URI: uri})
				}
				e := &out[i]
				if e.DisplayName == "" {
					e.DisplayName = displayName(c)
				}
				for _, g := range groups {
					if !slices.Contains(e.Groups, g) {
						e.Groups = append(e.Groups, g)
					}
				}
			}
		}
	}
	for _, l := range d.root.elements() {
		walk(l, nil)
	}
	return out, nil
}

// ComposeResourceLists renders entries as a resource-lists document: one
// top-level list per group (in order of first mention) holding the
// entries of that group, and an unnamed list first for entries without a
// group. Entries whose URI is empty or not absolute are left out,
// repeated URIs merged and characters XML cannot carry dropped, so the
// result always validates;
// ParseResourceLists gives back the same entries up to that and ordering.
func ComposeResourceLists(entries []Entry) []byte {
	type list struct {
		name    string
		entries []Entry
		seen    map[string]bool
	}
	var lists []*list
	byName := map[string]*list{}
	add := func(name string, e Entry) {
		l := byName[name]
		if l == nil {
			l = &list{name: name, seen: map[string]bool{}}
			byName[name] = l
			if name == "" {
				lists = slices.Insert(lists, 0, l)
			} else {
				lists = append(lists, l)
			}
		}
		if !l.seen[e.URI] {
			l.seen[e.URI] = true
			l.entries = append(l.entries, e)
		}
	}
	for _, e := range entries {
		e.URI = toValidText(e.URI)
		e.DisplayName = toValidText(e.DisplayName)
		if strings.TrimSpace(e.URI) == "" || !hasScheme(e.URI) {
			continue
		}
		grouped := false
		for _, g := range e.Groups {
			if g = toValidText(g); g != "" {
				add(g, e)
				grouped = true
			}
		}
		if !grouped {
			add("", e)
		}
	}
	var b bytes.Buffer
	b.WriteString(xmlDecl)
	fmt.Fprintf(&b, "<resource-lists xmlns=%q>\n", rl)
	for _, l := range lists {
		b.WriteString("  <list")
		if l.name != "" {
			b.WriteString(` name="`)
			escapeAttr(&b, l.name)
			b.WriteString(`"`)
		}
		b.WriteString(">\n")
		for _, e := range l.entries {
			b.WriteString(`    <entry uri="`)
			escapeAttr(&b, e.URI)
			if e.DisplayName == "" {
				b.WriteString("\"/>\n")
				continue
			}
			b.WriteString("\">\n      <display-name>")
			escapeText(&b, e.DisplayName)
			b.WriteString("</display-name>\n    </entry>\n")
		}
		b.WriteString("  </list>\n")
	}
	b.WriteString("</resource-lists>\n")
	return b.Bytes()
}
