package pstn

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// template is a compiled translation: literal text and group references.
type template []tpart

type tpart struct {
	lit   string
	group int // -1: literal
}

// compileTemplate reads a translation against re: $N (one digit), ${N},
// ${name}, $$. A reference to a group re does not have is an error.
func compileTemplate(tr string, re *regexp.Regexp) (template, error) {
	var out template
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, tpart{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	for i := 0; i < len(tr); i++ {
		c := tr[i]
		if c != '$' {
			lit.WriteByte(c)
			continue
		}
		if i+1 >= len(tr) {
			return nil, fmt.Errorf("a lone $ at the end (write $$ for a dollar sign)")
		}
		i++
		var ref string
		switch n := tr[i]; {
		case n == '$':
			lit.WriteByte('$')
			continue
		case n >= '0' && n <= '9':
			ref = tr[i : i+1]
		case n == '{':
			end := strings.IndexByte(tr[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("${ without }")
			}
			ref = tr[i+1 : i+end]
			i += end
		default:
			return nil, fmt.Errorf("$%c is not a group (use $1, ${12}, ${name} or $$)", n)
		}
		g, err := strconv.Atoi(ref)
		if err != nil {
			if g = re.SubexpIndex(ref); g < 0 {
				return nil, fmt.Errorf("${%s}: the pattern has no group of that name", ref)
			}
		} else if g > re.NumSubexp() {
			return nil, fmt.Errorf("$%d: the pattern has %d group(s)", g, re.NumSubexp())
		}
		flush()
		out = append(out, tpart{group: g})
	}
	flush()
	return out, nil
}

// expand writes the translation of s, whose match is m
// (FindStringSubmatchIndex). An unmatched optional group is empty.
func (t template) expand(s string, m []int) string {
	var b strings.Builder
	for _, p := range t {
		if p.group < 0 {
			b.WriteString(p.lit)
			continue
		}
		if a, z := m[2*p.group], m[2*p.group+1]; a >= 0 {
			b.WriteString(s[a:z])
		}
	}
	return b.String()
}

// numberFormat is a NumberFormat with its calling code resolved.
type numberFormat struct {
	NumberFormat
	cc string // calling code of Country, digits ("1", "44")
}

// Outward writes an E.164 number the way the trunk expects it.
func (f numberFormat) Outward(e164 string) string {
	digits := strings.TrimPrefix(e164, "+")
	var s string
	switch f.Format {
	case FormatDigits:
		s = digits
	case FormatNational:
		if f.cc != "" && strings.HasPrefix(digits, f.cc) {
			s = f.NationalPrefix + digits[len(f.cc):]
		} else if f.InternationalPrefix != "" {
			s = f.InternationalPrefix + digits
		} else {
			s = e164
		}
	default:
		s = e164
	}
	return f.Prefix + s
}

// Inward reads a number the trunk sent back to E.164; ok is false when
// it is not a number (empty, or other than digits after the trunk's
// prefix and a leading '+').
func (f numberFormat) Inward(s string) (e164 string, ok bool) {
	s = strings.TrimPrefix(s, f.Prefix)
	if rest, plus := strings.CutPrefix(s, "+"); plus {
		return "+" + rest, isDigits(rest)
	}
	if !isDigits(s) {
		return "", false
	}
	switch f.Format {
	case FormatNational:
		if f.InternationalPrefix != "" {
			if rest, ok := strings.CutPrefix(s, f.InternationalPrefix); ok {
				return "+" + rest, rest != ""
			}
		}
		if f.NationalPrefix != "" {
			s = strings.TrimPrefix(s, f.NationalPrefix)
		}
		return "+" + f.cc + s, s != ""
	default: // e164 written without '+', digits
		return "+" + s, true
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isE164 reports whether s is '+' and 2 to 15 digits, the first not 0
// (plain string work: phonenumbers checks real numbers at Validate).
func isE164(s string) bool {
	d, ok := strings.CutPrefix(s, "+")
	return ok && len(d) >= 2 && len(d) <= 15 && d[0] != '0' && isDigits(d)
}
