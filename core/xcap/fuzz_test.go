package xcap

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzParseResourceLists checks that ParseResourceLists never panics, that
// its errors are document conflicts, and that whatever it accepts survives
// ComposeResourceLists: the same contacts, display names and groups.
func FuzzParseResourceLists(f *testing.F) {
	f.Add([]byte(buddies))
	f.Add(ComposeResourceLists([]Entry{{URI: "sip:a@b", DisplayName: "A", Groups: []string{"g", "h"}}}))
	f.Fuzz(func(t *testing.T, body []byte) {
		entries, err := ParseResourceLists(body)
		if err != nil {
			var c *conflict
			if !errors.As(err, &c) || !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("error %v is not a conflict", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if e.URI == "" || seen[e.URI] || !hasScheme(e.URI) {
				t.Fatalf("bad or repeated entry %+v", e)
			}
			seen[e.URI] = true
		}
		composed := ComposeResourceLists(entries)
		again, err := ParseResourceLists(composed)
		if err != nil {
			t.Fatalf("composed document does not parse: %v\n%s", err, composed)
		}
		if a, b := entryMap(entries), entryMap(again); !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed entries:\n%v\n%v", a, b)
		}
	})
}

// entryMap keys entries by URI with sorted groups, for comparison up to
// ordering.
func entryMap(entries []Entry) map[string]Entry {
	m := map[string]Entry{}
	for _, e := range entries {
		e.Groups = slices.Sorted(slices.Values(e.Groups))
		m[e.URI] = e
	}
	return m
}

// FuzzParsePresRules checks that ParsePresRules never panics, that its
// errors are document conflicts, and that ComposePresRules keeps what it
// returns.
func FuzzParsePresRules(f *testing.F) {
	f.Add(ComposePresRules(Rules{Allow: []string{"sip:a@b", "*@c"}, Block: []string{"*"}, Polite: []string{"sip:d@e"}}))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParsePresRules(body)
		if err != nil {
			var c *conflict
			if !errors.As(err, &c) || !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("error %v is not a conflict", err)
			}
			return
		}
		composed := ComposePresRules(r)
		again, err := ParsePresRules(composed)
		if err != nil {
			t.Fatalf("composed document does not parse: %v\n%s", err, composed)
		}
		for _, l := range [][2][]string{{r.Allow, again.Allow}, {r.Block, again.Block}, {r.Polite, again.Polite}} {
			if a, b := normalItems(l[0]), normalItems(l[1]); !reflect.DeepEqual(a, b) {
				t.Fatalf("round trip changed %q to %q", a, b)
			}
		}
	})
}

// normalItems is the set of items as ComposePresRules writes them.
func normalItems(items []string) []string {
	var out []string
	for _, it := range items {
		if d, ok := strings.CutPrefix(it, "*@"); ok {
			it = "*@" + strings.ToLower(strings.TrimSpace(d))
		}
		if !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	slices.Sort(out)
	return out
}

// fuzzDoc is the document FuzzNodeSelector selects in and modifies.
const fuzzDoc = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists" xmlns:x="urn:x">
  <list name="friends">
    <display-name>Friends</display-name>
    <entry uri="sip:bob@example.com" x:tag="1"><display-name>Bob</display-name></entry>
    <entry uri="sip:carol@example.com"/>
    <list name="inner"><entry uri="sip:dave@example.com"/></list>
  </list>
  <list name="work"/>
</resource-lists>
`

// FuzzNodeSelector parses a node selector with a query, checks that its
// canonical form parses back to the same, and runs GET, PUT and DELETE with
// it on a fixed document: no panic, and whatever succeeds leaves a
// document that re-parses and in which the selector's promise holds.
func FuzzNodeSelector(f *testing.F) {
	f.Add(`resource-lists/list[@name="friends"]/entry[@uri="sip:eve@example.com"]`, "", `<entry uri="sip:eve@example.com"/>`)
	f.Add(`rl:resource-lists/rl:list[2]/@name`, "xmlns(rl=urn:ietf:params:xml:ns:resource-lists)", "team")
	f.Fuzz(func(t *testing.T, sel, query, body string) {
		ns, err := parseXMLNS(query)
		if err != nil {
			if !errors.Is(err, errSelector) {
				t.Fatalf("query error %v is not errSelector", err)
			}
			ns = map[string]string{}
		}
		s, err := parseSelector(sel, ns, NamespaceResourceLists)
		if err != nil {
			if !errors.Is(err, errSelector) {
				t.Fatalf("error %v is not errSelector", err)
			}
			return
		}
		again, err := parseSelector(s.String(), ns, NamespaceResourceLists)
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("%q -> %q does not parse back the same: %v", sel, s.String(), err)
		}
		d, _ := parseDocument([]byte(fuzzDoc))
		_, _, _ = readNode(d, s)

		if !s.ns {
			if _, err := putNode(d, s, []byte(body)); err == nil {
				checkModified(t, d, s, true)
			}
		}
		d, _ = parseDocument([]byte(fuzzDoc))
		if !s.ns {
			if err := deleteNode(d, s); err == nil {
				checkModified(t, d, s, false)
			}
		}
	})
}

// checkModified checks a document after a successful PUT (the selector
// selects one node) or DELETE (it selects nothing).
func checkModified(t *testing.T, d *document, s *selector, put bool) {
	t.Helper()
	out := d.bytes()
	d2, err := parseDocument(out)
	if err != nil {
		if msg := err.Error(); strings.Contains(msg, "more than") || strings.Contains(msg, "deeper than") {
			return // over a limit: finish refuses it as a PUT would
		}
		t.Fatalf("%s: modified document does not parse: %v\n%s", s, err, out)
	}
	if string(d2.bytes()) != string(out) {
		t.Fatalf("%s: serialization not stable:\n%s\n%s", s, out, d2.bytes())
	}
	els := selectSteps(s.steps, d2)
	hasAttr := false
	if len(els) == 1 && s.attr != nil {
		_, hasAttr = els[0].attr(s.attr.space, s.attr.local)
	}
	switch {
	case put && len(els) != 1:
		t.Fatalf("%s: PUT succeeded but selects %d elements\n%s", s, len(els), out)
	case put && s.attr != nil && !hasAttr:
		t.Fatalf("%s: attribute PUT succeeded but the attribute is missing\n%s", s, out)
	case !put && s.attr == nil && len(els) != 0:
		t.Fatalf("%s: DELETE succeeded but still selects %d elements\n%s", s, len(els), out)
	case !put && s.attr != nil && (len(els) != 1 || hasAttr):
		t.Fatalf("%s: attribute DELETE left %d elements (attribute there: %v)\n%s", s, len(els), hasAttr, out)
	}
}
