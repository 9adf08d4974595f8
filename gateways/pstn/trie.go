package pstn

import "regexp/syntax"

// trie indexes routes by the digits of their E.164 prefix: a prefix
// route sits at its prefix, a pattern route at the literal prefix its
// anchored pattern starts with (at the root when it has none). A lookup
// walks the number's digits once and sees only the routes on its path.
type trie struct {
	routes []int32 // indexes into Plan.routes
	next   [10]*trie
}

// insert puts route i at the node of digits (the prefix without '+').
func (t *trie) insert(digits string, i int32) {
	n := t
	for j := 0; j < len(digits); j++ {
		d := digits[j] - '0'
		if n.next[d] == nil {
			n.next[d] = &trie{}
		}
		n = n.next[d]
	}
	n.routes = append(n.routes, i)
}

// walk calls f with the routes of every node on number's path (number
// without '+'), shortest prefix first, with the prefix's length.
func (t *trie) walk(digits string, f func(routes []int32, depth int)) {
	n := t
	for j := 0; ; j++ {
		if len(n.routes) > 0 {
			f(n.routes, j)
		}
		if j == len(digits) {
			return
		}
		d := digits[j] - '0'
		if d > 9 || n.next[d] == nil {
			return
		}
		n = n.next[d]
	}
}

// anchoredDigits returns the digits an anchored pattern's matches must
// start with after '+' ("^\+1206" -> "1206"), and ok=false when the
// pattern is not anchored at the start or does not begin with a literal
// '+': such a pattern is tried for every number.
func anchoredDigits(pattern string) (string, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	re = re.Simplify()
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 || re.Sub[0].Op != syntax.OpBeginText {
		return "", false
	}
	lit := re.Sub[1]
	if lit.Op != syntax.OpLiteral || lit.Flags&syntax.FoldCase != 0 || len(lit.Rune) == 0 || lit.Rune[0] != '+' {
		return "", false
	}
	var b []byte
	for _, r := range lit.Rune[1:] {
		if r < '0' || r > '9' {
			break
		}
		b = append(b, byte(r))
	}
	return string(b), true
}
