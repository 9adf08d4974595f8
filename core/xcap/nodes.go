package xcap

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// readNode renders what sel selects in d: an element
// (application/xcap-el+xml), an attribute value (application/xcap-att+xml)
// or the element's namespace bindings (application/xcap-ns+xml).
func readNode(d *document, sel *selector) (mediaType string, body []byte, err error) {
	el, err := selectOne(d, sel.steps)
	if err != nil {
		return "", nil, err
	}
	switch {
	case sel.attr != nil:
		v, ok := el.attr(sel.attr.space, sel.attr.local)
		if !ok {
			return "", nil, errNoNode
		}
		var b bytes.Buffer
		escapeAttr(&b, v)
		return mediaAttribute, b.Bytes(), nil
	case sel.ns:
		return mediaNamespaces, namespaceBindings(el), nil
	}
	return mediaElement, elementBytes(el), nil
}

// selectOne returns the one element steps select.
func selectOne(d *document, steps []step) (*node, error) {
	els := selectSteps(steps, d)
	switch len(els) {
	case 0:
		return nil, errNoNode
	case 1:
		return els[0], nil
	}
	return nil, errAmbiguous
}

// namespaceBindings renders an empty element named like el that declares
// every namespace in scope at el (RFC 4825 section 7.10).
func namespaceBindings(el *node) []byte {
	bound := map[string]string{}
	for e := el; e != nil; e = e.parent {
		for _, a := range e.attrs {
			prefix := ""
			switch {
			case a.prefix == "xmlns":
				prefix = a.local
			case a.prefix == "" && a.local == "xmlns":
			default:
				continue
			}
			if _, ok := bound[prefix]; !ok {
				bound[prefix] = a.value
			}
		}
	}
	prefixes := make([]string, 0, len(bound))
	for p := range bound {
		if p != "" || bound[p] != "" {
			prefixes = append(prefixes, p)
		}
	}
	sort.Strings(prefixes)
	attrs := make([]attr, 0, len(prefixes))
	for _, p := range prefixes {
		if p == "" {
			attrs = append(attrs, attr{local: "xmlns", value: bound[p]})
		} else {
			attrs = append(attrs, attr{prefix: "xmlns", local: p, value: bound[p]})
		}
	}
	var b bytes.Buffer
	writeNode(&b, &node{kind: elementNode, prefix: el.prefix, local: el.local, attrs: attrs})
	return b.Bytes()
}

// modify answers PUT and DELETE on an element or attribute: read the
// document, change it, validate it and write it back if nobody changed it
// meanwhile.
func (s *server) modify(w http.ResponseWriter, r *http.Request, t target, sel *selector) {
	put := r.Method == http.MethodPut
	var body []byte
	if put {
		media := mediaElement
		if sel.attr != nil {
			media = mediaAttribute
		}
		err := checkMediaType(r, media)
		if err == nil {
			body, err = s.readBody(w, r)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	cond := parseConditions(r.Header)
	ctx := r.Context()
	for range maxAttempts {
		stored, etag, exists, err := s.current(ctx, t, cond)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !exists {
			if put {
				dir := t.docURI[:strings.LastIndexByte(t.docURI, '/')+1]
				err = &conflict{cond: condNoParent, phrase: "the document does not exist", anc: baseURL(r) + dir}
			}
			s.fail(w, r, err)
			return
		}
		d, err := parseStored(stored)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		created := false
		if put {
			created, err = putNode(d, sel, body)
		} else {
			err = deleteNode(d, sel)
		}
		var c *conflict
		if errors.As(err, &c) && c.cond == condNoParent {
			c.anc = ancestorURL(r, t, c.anc)
		}
		var out []byte
		if err == nil {
			out, err = finish(d, t.usage, s.cfg.MaxBody)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if s.save(w, r, t, out, etag, "", created) {
			return
		}
	}
	s.fail(w, r, errBusy)
}

// finish validates a modified document and serializes it. The result must
// obey the limits a PUT of the whole document would (size, depth, element
// count), so that documents cannot grow past them one element at a time.
func finish(d *document, u *usage, maxBody int64) ([]byte, error) {
	if err := u.validate(d); err != nil {
		return nil, err
	}
	out := d.bytes()
	if int64(len(out)) > maxBody {
		return nil, newConflict(condConstraint, "the document would exceed %d bytes", maxBody)
	}
	if _, err := parseDocument(out); err != nil {
		return nil, err
	}
	return out, nil
}

func baseURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// ancestorURL is the HTTP URI of a no-parent ancestor: the document, or
// the element that rel (a node selector, "" for none) selects in it.
func ancestorURL(r *http.Request, t target, rel string) string {
	u := baseURL(r) + t.docURI
	if rel == "" {
		return u
	}
	u += "/~~/" + (&url.URL{Path: rel}).EscapedPath()
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	return u
}

// noParent reports the closest ancestor of steps that exists, as a node
// selector relative to the document ("" for the document itself).
func noParent(d *document, steps []step) *conflict {
	for k := len(steps) - 1; k > 0; k-- {
		if len(selectSteps(steps[:k], d)) == 1 {
			return &conflict{cond: condNoParent, phrase: "the parent does not exist",
				anc: (&selector{steps: steps[:k]}).String()}
		}
	}
	return &conflict{cond: condNoParent, phrase: "the parent does not exist"}
}

// putNode replaces the element or attribute sel selects, or inserts it
// (created=true). The result must be selected by sel (RFC 4825 section
// 8.2.3), or it is a cannot-insert conflict.
func putNode(d *document, sel *selector, body []byte) (created bool, err error) {
	if sel.attr != nil {
		return putAttr(d, sel, body)
	}
	steps := sel.steps
	matches := selectSteps(steps, d)
	var parent, el *node
	switch len(matches) {
	case 1:
		old := matches[0]
		parent = old.parent
		if el, err = parseFragment(body, parent); err != nil {
			return false, err
		}
		if parent == nil {
			d.root = el
		} else {
			parent.children[parent.index(old)] = el
		}
	case 0:
		if len(steps) == 1 {
			return false, newConflict(condCannotInsert, "a document has exactly one root element")
		}
		parents := selectSteps(steps[:len(steps)-1], d)
		switch len(parents) {
		case 0:
			return false, noParent(d, steps)
		case 1:
		default:
			return false, errAmbiguous
		}
		parent = parents[0]
		if el, err = parseFragment(body, parent); err != nil {
			return false, err
		}
		insertChild(parent, el, steps[len(steps)-1])
		created = true
	default:
		return false, errAmbiguous
	}
	el.parent = parent
	if got := selectSteps(steps, d); len(got) != 1 || got[0] != el {
		return false, newConflict(condCannotInsert, "the request URI would not select the element in the body")
	}
	return created, nil
}

// insertChild inserts el among parent's children where last asks: after
// the (N-1)th sibling it names for name[N], before the first one for
// name[1], else after the last element child.
func insertChild(parent, el *node, last step) {
	kids := parent.children
	at, k := -1, 0
	for i, c := range kids {
		if c.kind != elementNode || !last.nameMatches(c) {
			continue
		}
		k++
		if last.pos == 1 {
			at = i
			break
		}
		if last.pos > 1 && k == last.pos-1 {
			at = i + 1
			break
		}
	}
	if at < 0 {
		at = len(kids)
		for i := len(kids) - 1; i >= 0; i-- {
			if kids[i].kind == elementNode {
				at = i + 1
				break
			}
		}
	}
	// Indent like the sibling next to it, if that one is indented.
	ref, after := at-1, true
	if ref < 0 || kids[ref].kind != elementNode {
		ref, after = at, false
	}
	if ref >= 1 && ref < len(kids) && kids[ref].kind == elementNode && isIndent(kids[ref-1]) {
		indent := &node{kind: textNode, data: kids[ref-1].data, parent: parent}
		if after {
			parent.children = slices.Insert(kids, at, indent, el)
		} else {
			parent.children = slices.Insert(kids, at, el, indent)
		}
		return
	}
	parent.children = slices.Insert(kids, at, el)
}

// isIndent reports whether n is whitespace text.
func isIndent(n *node) bool {
	return n.kind == textNode && strings.Trim(n.data, " \t\r\n") == ""
}

// deleteNode removes the element or attribute sel selects; afterwards sel
// must select nothing (RFC 4825 section 8.2.4), or it is a cannot-delete
// conflict.
func deleteNode(d *document, sel *selector) error {
	el, err := selectOne(d, sel.steps)
	if err != nil {
		return err
	}
	if sel.attr != nil {
		i := slices.IndexFunc(el.attrs, func(a attr) bool {
			return !a.isNSDecl() && a.space == sel.attr.space && a.local == sel.attr.local
		})
		if i < 0 {
			return errNoNode
		}
		el.attrs = slices.Delete(el.attrs, i, i+1)
		if got := selectSteps(sel.steps, d); len(got) != 1 || got[0] != el {
			return newConflict(condCannotDelete, "the element would no longer be selected by the request URI")
		}
		return nil
	}
	p := el.parent
	if p == nil {
		return newConflict(condCannotDelete, "the root element cannot be deleted; delete the document")
	}
	i := p.index(el)
	from := i
	if i > 0 && isIndent(p.children[i-1]) {
		from = i - 1 // the indentation before it
	}
	p.children = slices.Delete(p.children, from, i+1)
	if len(selectSteps(sel.steps, d)) > 0 {
		return newConflict(condCannotDelete, "another element would take its place under the request URI")
	}
	return nil
}

// putAttr sets (or adds, created=true) the attribute sel selects.
func putAttr(d *document, sel *selector, body []byte) (created bool, err error) {
	els := selectSteps(sel.steps, d)
	switch len(els) {
	case 0:
		return false, noParent(d, sel.steps)
	case 1:
	default:
		return false, errAmbiguous
	}
	el := els[0]
	value, err := unescapeAttValue(string(body))
	if err != nil {
		return false, newConflict(condNotAttValue, "%s", strings.TrimPrefix(err.Error(), errSelector.Error()+": "))
	}
	a := sel.attr
	if a.prefix != "" {
		if space, ok := el.lookupNS(a.prefix); !ok || space != a.space {
			return false, newConflict(condCannotInsert, "prefix %q is not bound to %s at the element", a.prefix, a.space)
		}
	}
	i := slices.IndexFunc(el.attrs, func(x attr) bool {
		return !x.isNSDecl() && x.space == a.space && x.local == a.local
	})
	if i >= 0 {
		el.attrs[i].value = value
	} else {
		if len(el.attrs) >= maxAttrs {
			return false, newConflict(condCannotInsert, "more than %d attributes", maxAttrs)
		}
		el.attrs = append(el.attrs, attr{prefix: a.prefix, local: a.local, space: a.space, value: value})
		created = true
	}
	if got := selectSteps(sel.steps, d); len(got) != 1 || got[0] != el {
		return false, newConflict(condCannotInsert, "the request URI would no longer select the element")
	}
	return created, nil
}
