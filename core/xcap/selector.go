package xcap

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxSteps bounds the steps of a node selector (documents are at most
// maxDepth deep anyway).
const maxSteps = maxDepth + 1

// selector is a parsed node selector (RFC 4825 section 6.3).
type selector struct {
	steps []step
	// attr is set for an attribute selector (/@name), ns for the namespace
	// selector (/namespace::*).
	attr *qname
	ns   bool
}

// qname is a name test with its resolved namespace.
type qname struct {
	prefix, local, space string
}

func (q qname) String() string {
	if q.prefix == "" {
		return q.local
	}
	return q.prefix + ":" + q.local
}

// step is one location step: a name test ("*" for any element), an
// optional position (1-based, 0 for none) and an optional attribute test.
type step struct {
	name  qname
	any   bool
	pos   int
	test  *qname
	value string
}

// parseSelector parses a percent-decoded node selector. Unprefixed element
// names are in defaultNS; prefixes are bound by ns (from the query).
// Errors wrap errSelector.
func parseSelector(s string, ns map[string]string, defaultNS string) (*selector, error) {
	parts, err := splitSteps(s)
	if err != nil {
		return nil, err
	}
	if len(parts) > maxSteps {
		return nil, fmt.Errorf("%w: more than %d steps", errSelector, maxSteps)
	}
	sel := &selector{}
	for i, p := range parts {
		last := i == len(parts)-1
		switch {
		case last && i > 0 && p == "namespace::*":
			sel.ns = true
		case last && i > 0 && strings.HasPrefix(p, "@"):
			q, err := parseName(p[1:], ns, "", false)
			if err != nil {
				return nil, err
			}
			sel.attr = &q
		default:
			st, err := parseStep(p, ns, defaultNS)
			if err != nil {
				return nil, err
			}
			sel.steps = append(sel.steps, st)
		}
	}
	return sel, nil
}

// splitSteps splits at the slashes outside quoted attribute values.
func splitSteps(s string) ([]string, error) {
	var parts []string
	var quote byte
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '/':
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("%w: unterminated attribute value", errSelector)
	}
	parts = append(parts, s[start:])
	for _, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("%w: empty step", errSelector)
		}
	}
	return parts, nil
}

// parseStep parses name, name[N], name[@a="v"] or name[N][@a="v"].
func parseStep(s string, ns map[string]string, defaultNS string) (step, error) {
	var st step
	name, rest, _ := strings.Cut(s, "[")
	if name == "*" {
		st.any = true
	} else {
		q, err := parseName(name, ns, defaultNS, true)
		if err != nil {
			return step{}, err
		}
		st.name = q
	}
	if len(name) == len(s) {
		return st, nil
	}
	rest = "[" + rest
	if end := strings.IndexByte(rest, ']'); end > 0 && rest[1] != '@' {
		n, err := strconv.Atoi(rest[1:end])
		if err != nil || n < 1 || strings.Trim(rest[1:end], "0123456789") != "" {
			return step{}, fmt.Errorf("%w: bad position %q", errSelector, rest[1:end])
		}
		st.pos, rest = n, rest[end+1:]
		if rest == "" {
			return st, nil
		}
	}
	// [@name="value"] or [@name='value']
	if len(rest) < 2 || rest[0] != '[' || rest[1] != '@' {
		return step{}, fmt.Errorf("%w: bad predicate in %q", errSelector, s)
	}
	eq := strings.IndexByte(rest, '=')
	if eq < 0 {
		return step{}, fmt.Errorf("%w: attribute test without value in %q", errSelector, s)
	}
	q, err := parseName(rest[2:eq], ns, "", false)
	if err != nil {
		return step{}, err
	}
	v := rest[eq+1:]
	if len(v) < 3 || (v[0] != '"' && v[0] != '\'') || v[len(v)-1] != ']' || v[len(v)-2] != v[0] {
		return step{}, fmt.Errorf("%w: bad attribute value in %q", errSelector, s)
	}
	raw := v[1 : len(v)-2]
	if strings.IndexByte(raw, v[0]) >= 0 {
		return step{}, fmt.Errorf("%w: bad attribute value in %q", errSelector, s)
	}
	value, err := unescapeAttValue(raw)
	if err != nil {
		return step{}, err
	}
	st.test, st.value = &q, value
	return st, nil
}

// parseName parses a QName; an unprefixed one is in defaultNS. Names of
// namespace declarations are refused when !element.
func parseName(s string, ns map[string]string, defaultNS string, element bool) (qname, error) {
	prefix, local, found := strings.Cut(s, ":")
	if !found {
		prefix, local = "", s
	}
	if (found && !isNCName(prefix)) || !isNCName(local) {
		return qname{}, fmt.Errorf("%w: bad name %q", errSelector, s)
	}
	if !element && (prefix == "xmlns" || (prefix == "" && local == "xmlns")) {
		return qname{}, fmt.Errorf("%w: namespace declarations are not attributes", errSelector)
	}
	q := qname{prefix: prefix, local: local, space: defaultNS}
	switch {
	case prefix == "xml":
		q.space = xmlNamespace
	case prefix != "":
		space, ok := ns[prefix]
		if !ok {
			return qname{}, fmt.Errorf("%w: prefix %q not bound in the query", errSelector, prefix)
		}
		q.space = space
	}
	return q, nil
}

// isNCName approximates the XML NCName production.
func isNCName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == 0xB7):
		default:
			return false
		}
	}
	return true
}

// unescapeAttValue resolves the predefined entities and character
// references of an XML attribute value; '<' and a bare '&' are errors.
func unescapeAttValue(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: attribute value is not UTF-8", errSelector)
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '<':
			return "", fmt.Errorf("%w: '<' in attribute value", errSelector)
		case '&':
			end := strings.IndexByte(s[i:], ';')
			if end < 0 {
				return "", fmt.Errorf("%w: bare '&' in attribute value", errSelector)
			}
			r, ok := entity(s[i+1 : i+end])
			if !ok {
				return "", fmt.Errorf("%w: unknown reference %q", errSelector, s[i:i+end+1])
			}
			b.WriteRune(r)
			i += end + 1
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isXMLChar(r) {
			return "", fmt.Errorf("%w: character %U not allowed", errSelector, r)
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String(), nil
}

func entity(name string) (rune, bool) {
	switch name {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "quot":
		return '"', true
	case "apos":
		return '\'', true
	}
	var n uint64
	var err error
	switch {
	case strings.HasPrefix(name, "#x"):
		n, err = strconv.ParseUint(name[2:], 16, 32)
	case strings.HasPrefix(name, "#"):
		n, err = strconv.ParseUint(name[1:], 10, 32)
	default:
		return 0, false
	}
	if err != nil || n > unicode.MaxRune || !isXMLChar(rune(n)) {
		return 0, false
	}
	return rune(n), true
}

// String renders the selector canonically (it parses back to the same).
func (s *selector) String() string {
	var b strings.Builder
	for i, st := range s.steps {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(st.String())
	}
	switch {
	case s.attr != nil:
		b.WriteString("/@" + s.attr.String())
	case s.ns:
		b.WriteString("/namespace::*")
	}
	return b.String()
}

func (st step) String() string {
	s := st.name.String()
	if st.any {
		s = "*"
	}
	if st.pos > 0 {
		s += "[" + strconv.Itoa(st.pos) + "]"
	}
	if st.test != nil {
		s += `[@` + st.test.String() + `="` + quoteAttValue(st.value) + `"]`
	}
	return s
}

// quoteAttValue escapes v for a double-quoted attribute value in a selector.
func quoteAttValue(v string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;").Replace(v)
}

// nameMatches applies the step's name test to element n.
func (st step) nameMatches(n *node) bool {
	return st.any || (n.local == st.name.local && n.space == st.name.space)
}

// apply selects, among the element children of the parents (or the root
// when parents is nil), those the step selects, in document order.
func (st step) apply(parents []*node, root *node) []*node {
	var out []*node
	pick := func(candidates []*node) {
		k := 0
		for _, c := range candidates {
			if !st.nameMatches(c) {
				continue
			}
			k++
			if st.pos > 0 && k != st.pos {
				continue
			}
			if st.test != nil {
				if v, ok := c.attr(st.test.space, st.test.local); !ok || v != st.value {
					continue
				}
			}
			out = append(out, c)
		}
	}
	if parents == nil {
		pick([]*node{root})
		return out
	}
	for _, p := range parents {
		pick(p.elements())
	}
	return out
}

// selectSteps evaluates steps against the document.
func selectSteps(steps []step, d *document) []*node {
	var cur []*node
	for i, st := range steps {
		if i == 0 {
			cur = st.apply(nil, d.root)
		} else {
			cur = st.apply(cur, nil)
		}
		if len(cur) == 0 {
			return nil
		}
	}
	return cur
}
