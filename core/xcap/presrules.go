package xcap

import (
	"bytes"
	"slices"
	"strings"
)

const (
	cp = NamespaceCommonPolicy
	pr = NamespacePresRules
)

// Sub-handling values (RFC 5025 section 3.2.1).
const (
	HandlingBlock       = "block"
	HandlingConfirm     = "confirm"
	HandlingPoliteBlock = "polite-block"
	HandlingAllow       = "allow"
)

// Rules is the view of a pres-rules document the presence agent needs:
// which watchers each sub-handling names. An item is an identity URI
// ("sip:bob@example.com"), "*@domain" for every user of a domain, or "*"
// for everybody. The lists are what the document says, not a decision:
// when a watcher is in several, RFC 4745 section 10 says the most
// permissive wins (allow over polite-block over block).
type Rules struct {
	Allow, Block, Polite []string
}

// validatePresRules checks the common-policy (RFC 4745) and pres-rules
// (RFC 5025) schemas loosely and that rule ids are unique.
func validatePresRules(d *document) error {
	root := d.root
	if !root.is(cp, "ruleset") {
		return newConflict(condSchema, "the root element must be <ruleset> in namespace %s", cp)
	}
	if err := checkElementOnly(root); err != nil {
		return err
	}
	for _, r := range root.elements() {
		if !r.is(cp, "rule") {
			return newConflict(condSchema, "<ruleset> may only contain <rule>, not <%s>", r.qname())
		}
		if err := validateRule(r); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, r := range root.elements() {
		id, _ := r.attr("", "id")
		if seen[id] {
			return &conflict{cond: condUniqueness, phrase: "duplicate rule id " + id, field: "ruleset/rule/@id"}
		}
		seen[id] = true
	}
	return nil
}

func validateRule(r *node) error {
	if id, _ := r.attr("", "id"); !isNCName(id) {
		return newConflict(condSchema, "<rule> needs an id attribute that is an XML name")
	}
	if err := checkElementOnly(r); err != nil {
		return err
	}
	order := []string{"conditions", "actions", "transformations"}
	next := 0
	for _, c := range r.elements() {
		k := slices.Index(order, c.local)
		if c.space != cp || k < next {
			return newConflict(condSchema, "<%s> is not allowed here in <rule>", c.qname())
		}
		next = k + 1
		if err := checkElementOnly(c); err != nil {
			return err
		}
		var err error
		switch c.local {
		case "conditions":
			err = validateConditions(c)
		case "actions":
			err = validateActions(c)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func validateConditions(c *node) error {
	for _, e := range c.elements() {
		if e.space != cp {
			continue
		}
		switch e.local {
		case "identity":
			if err := validateIdentity(e); err != nil {
				return err
			}
		case "sphere", "validity":
		default:
			return newConflict(condSchema, "<%s> is not allowed in <conditions>", e.qname())
		}
	}
	return nil
}

func validateIdentity(id *node) error {
	if err := checkElementOnly(id); err != nil {
		return err
	}
	for _, e := range id.elements() {
		if e.space != cp {
			continue
		}
		switch e.local {
		case "one":
			if v, _ := e.attr("", "id"); strings.TrimSpace(v) == "" {
				return newConflict(condSchema, "<one> needs an id attribute")
			}
		case "many":
			if err := checkElementOnly(e); err != nil {
				return err
			}
			for _, x := range e.elements() {
				if x.space != cp {
					continue
				}
				_, hasID := x.attr("", "id")
				_, hasDomain := x.attr("", "domain")
				if x.local != "except" || hasID == hasDomain {
					return newConflict(condSchema, "<many> may only contain <except> with id or domain")
				}
			}
		default:
			return newConflict(condSchema, "<%s> is not allowed in <identity>", e.qname())
		}
	}
	return nil
}

func validateActions(a *node) error {
	n := 0
	for _, e := range a.elements() {
		if !e.is(pr, "sub-handling") {
			continue
		}
		if n++; n > 1 {
			return newConflict(condSchema, "more than one <sub-handling>")
		}
		if err := checkTextOnly(e); err != nil {
			return err
		}
		switch strings.TrimSpace(e.text()) {
		case HandlingBlock, HandlingConfirm, HandlingPoliteBlock, HandlingAllow:
		default:
			return newConflict(condSchema, "<sub-handling> must be block, confirm, polite-block or allow")
		}
	}
	return nil
}

// child returns the first element child of n named space:local.
func child(n *node, space, local string) *node {
	for _, c := range n.elements() {
		if c.is(space, local) {
			return c
		}
	}
	return nil
}

// ParsePresRules reads a pres-rules document (RFC 5025 on RFC 4745): each
// rule's sub-handling (allow, block, polite-block; confirm and rules
// without one add nothing) applies to the identities of its <identity>
// condition: <one id> gives the id, <many domain> "*@domain", <many/> and
// a rule without identity "*". The view cannot express every condition,
// so it errs on the side of hiding presence: a rule with a sphere,
// validity, foreign or second identity condition, and a <many> with
// <except>, count when they block and are dropped when they allow. A
// document that is not well formed or breaks the schema yields an error
// wrapping ErrInvalidDocument.
func ParsePresRules(body []byte) (Rules, error) {
	d, err := parseDocument(body)
	if err != nil {
		return Rules{}, err
	}
	if err := validatePresRules(d); err != nil {
		return Rules{}, err
	}
	var r Rules
	for _, rule := range d.root.elements() {
		var handling string
		if a := child(rule, cp, "actions"); a != nil {
			if sh := child(a, pr, "sub-handling"); sh != nil {
				handling = strings.TrimSpace(sh.text())
			}
		}
		var dst *[]string
		switch handling {
		case HandlingAllow:
			dst = &r.Allow
		case HandlingBlock:
			dst = &r.Block
		case HandlingPoliteBlock:
			dst = &r.Polite
		default:
			continue
		}
		exact := true
		var identities []*node
		if conds := child(rule, cp, "conditions"); conds != nil {
			for _, c := range conds.elements() {
				if c.is(cp, "identity") {
					identities = append(identities, c)
				} else {
					exact = false
				}
			}
		}
		if len(identities) > 1 {
			exact = false
		}
		allow := handling == HandlingAllow
		if allow && !exact {
			continue
		}
		add := func(s string) {
			if !slices.Contains(*dst, s) {
				*dst = append(*dst, s)
			}
		}
		if len(identities) == 0 {
			add("*")
		}
		for _, id := range identities {
			for _, e := range id.elements() {
				switch {
				case e.is(cp, "one"):
					v, _ := e.attr("", "id")
					add(strings.TrimSpace(v))
				case e.is(cp, "many"):
					if allow && child(e, cp, "except") != nil {
						continue
					}
					if dom, ok := e.attr("", "domain"); ok && strings.TrimSpace(dom) != "" {
						add("*@" + strings.ToLower(strings.TrimSpace(dom)))
					} else {
						add("*")
					}
				}
			}
		}
	}
	return r, nil
}

// Rule ids ComposePresRules writes.
const (
	RuleIDAllow       = "pres_allow"
	RuleIDBlock       = "pres_block"
	RuleIDPoliteBlock = "pres_polite_block"
)

// ComposePresRules renders r as a pres-rules document with one rule per
// non-empty list (ids pres_allow, pres_block and pres_polite_block); the
// allow rule also grants every presence attribute, as RFC 5025 needs for
// an allowed watcher to see anything. Empty and repeated items are left
// out; ParsePresRules gives back r up to that.
func ComposePresRules(r Rules) []byte {
	var b bytes.Buffer
	b.WriteString(xmlDecl)
	b.WriteString(`<cr:ruleset xmlns="` + pr + `" xmlns:cr="` + cp + `">` + "\n")
	for _, rule := range []struct {
		id, handling string
		items        []string
	}{
		{RuleIDAllow, HandlingAllow, r.Allow},
		{RuleIDBlock, HandlingBlock, r.Block},
		{RuleIDPoliteBlock, HandlingPoliteBlock, r.Polite},
	} {
		var ids bytes.Buffer
		var seen []string
		for _, it := range rule.items {
			it = strings.TrimSpace(toValidText(it))
			if it == "" || it == "*@" || slices.Contains(seen, it) {
				continue
			}
			seen = append(seen, it)
			switch {
			case it == "*":
				ids.WriteString("        <cr:many/>\n")
			case strings.HasPrefix(it, "*@"):
				ids.WriteString(`        <cr:many domain="`)
				escapeAttr(&ids, strings.ToLower(it[2:]))
				ids.WriteString("\"/>\n")
			default:
				ids.WriteString(`        <cr:one id="`)
				escapeAttr(&ids, it)
				ids.WriteString("\"/>\n")
			}
		}
		if ids.Len() == 0 {
			continue
		}
		b.WriteString(`  <cr:rule id="` + rule.id + "\">\n    <cr:conditions>\n      <cr:identity>\n")
		b.Write(ids.Bytes())
		b.WriteString("      </cr:identity>\n    </cr:conditions>\n    <cr:actions>\n")
		b.WriteString("      <sub-handling>" + rule.handling + "</sub-handling>\n    </cr:actions>\n")
		if rule.handling == HandlingAllow {
			b.WriteString("    <cr:transformations>\n" +
				"      <provide-services><all-services/></provide-services>\n" +
				"      <provide-persons><all-persons/></provide-persons>\n" +
				"      <provide-devices><all-devices/></provide-devices>\n" +
				"      <provide-all-attributes/>\n" +
				"    </cr:transformations>\n")
		}
		b.WriteString("  </cr:rule>\n")
	}
	b.WriteString("</cr:ruleset>\n")
	return b.Bytes()
}
