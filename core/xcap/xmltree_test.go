package xcap

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestParseDocumentRejects(t *testing.T) {
	deep := strings.Repeat("<a>", maxDepth+1) + strings.Repeat("</a>", maxDepth+1)
	wide := "<a>" + strings.Repeat("<b/>", maxElements) + "</a>"
	var attrs strings.Builder
	for i := range maxAttrs + 1 {
		attrs.WriteString(" a" + strconv.Itoa(i) + `="x"`)
	}
	for _, tc := range []struct {
		name, doc, cond string
	}{
		{"empty", "", condNotWellFormed},
		{"only whitespace", " \n", condNotWellFormed},
		{"doctype", `<!DOCTYPE a><a/>`, condNotWellFormed},
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>`, condNotWellFormed},
		{"external entity", `<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>`, condNotWellFormed},
		{"undefined entity", `<a>&nbsp;</a>`, condNotWellFormed},
		{"too deep", deep, condNotWellFormed},
		{"too many elements", wide, condNotWellFormed},
		{"too many attributes", "<a" + attrs.String() + "/>", condNotWellFormed},
		{"two roots", `<a/><b/>`, condNotWellFormed},
		{"text after root", `<a/>x`, condNotWellFormed},
		{"unclosed", `<a><b></a>`, condNotWellFormed},
		{"mismatched prefix", `<p:a xmlns:p="u" xmlns:q="u"></q:a>`, condNotWellFormed},
		{"undeclared prefix", `<p:a/>`, condNotWellFormed},
		{"undeclared attribute prefix", `<a p:x="1"/>`, condNotWellFormed},
		{"duplicate attribute", `<a x="1" x="2"/>`, condNotWellFormed},
		{"duplicate expanded attribute", `<a xmlns:p="u" xmlns:q="u" p:x="1" q:x="2"/>`, condNotWellFormed},
		{"empty prefix binding", `<a xmlns:p=""/>`, condNotWellFormed},
		{"rebinding xml", `<a xmlns:xml="urn:x"/>`, condNotWellFormed},
		{"binding xmlns", `<a xmlns:xmlns="urn:x"/>`, condNotWellFormed},
		{"colon in local name", `<a:/>`, condNotWellFormed},
		{"late declaration", ` <?xml version="1.0"?><a/>`, condNotWellFormed},
		{"xml 1.1", `<?xml version="1.1"?><a/>`, condNotWellFormed},
		{"latin-1 declared", `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, condNotUTF8},
		{"utf-16 bytes", "\xff\xfe<\x00a\x00/\x00>\x00", condNotUTF8},
		{"invalid utf-8", "<a>\xc3\x28</a>", condNotUTF8},
		{"control character", "<a>\x01</a>", condNotWellFormed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseDocument([]byte(tc.doc))
			var c *conflict
			if !errors.As(err, &c) || !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("err = %v, want a conflict", err)
			}
			if c.cond != tc.cond {
				t.Fatalf("condition %s (%v), want %s", c.cond, err, tc.cond)
			}
		})
	}
}

func TestParseDocumentRoundTrip(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{`<a/>`, `<a/>`},
		{"\xef\xbb\xbf<?xml version='1.0' encoding='us-ascii'?><a/>", `<a/>`},
		{`<a x='"&lt;'>&amp;&gt;<![CDATA[<b>]]></a>`, `<a x="&quot;&lt;">&amp;&gt;&lt;b&gt;</a>`},
		{"<a x=\"1&#10;2\">\r\n</a>", `<a x="1&#xA;2">` + "\n</a>"},
		{`<!--c--><?pi data?><p:a xmlns:p="u" p:x="1"><b xmlns="v"/></p:a><!--d-->`,
			"<!--c-->\n<?pi data?>\n" + `<p:a xmlns:p="u" p:x="1"><b xmlns="v"/></p:a>` + "\n<!--d-->"},
	} {
		d := mustParse(t, tc.in)
		want := xmlDecl + tc.out + "\n"
		if got := string(d.bytes()); got != want {
			t.Errorf("%q:\n got %q\nwant %q", tc.in, got, want)
		}
		if again := string(mustParse(t, want).bytes()); again != want {
			t.Errorf("not stable: %q", again)
		}
	}
}

func TestNamespaces(t *testing.T) {
	d := mustParse(t, `<r xmlns="urn:d" xmlns:p="urn:p"><p:x p:a="1" b="2"><y xmlns=""/><z xmlns:p="urn:q"><p:w/></z></p:x></r>`)
	x := d.root.elements()[0]
	if d.root.space != "urn:d" || x.space != "urn:p" {
		t.Fatalf("spaces %q %q", d.root.space, x.space)
	}
	if v, ok := x.attr("urn:p", "a"); !ok || v != "1" {
		t.Fatal("prefixed attribute")
	}
	if v, ok := x.attr("", "b"); !ok || v != "2" {
		t.Fatal("unprefixed attribute has no namespace")
	}
	y, z := x.elements()[0], x.elements()[1]
	if y.space != "" || z.space != "urn:d" || z.elements()[0].space != "urn:q" {
		t.Fatalf("spaces %q %q %q", y.space, z.space, z.elements()[0].space)
	}
	got := string(namespaceBindings(z.elements()[0]))
	if want := `<p:w xmlns="urn:d" xmlns:p="urn:q"/>`; got != want {
		t.Fatalf("namespace bindings %s, want %s", got, want)
	}
}

func TestParseFragment(t *testing.T) {
	d := mustParse(t, `<r xmlns="urn:d" xmlns:p="urn:p"><l/></r>`)
	l := d.root.elements()[0]
	el, err := parseFragment([]byte(` <p:e a="1"><f/></p:e>`+"\n"), l)
	if err != nil {
		t.Fatal(err)
	}
	if el.space != "urn:p" || el.elements()[0].space != "urn:d" || el.parent != nil {
		t.Fatalf("fragment resolved %q %q", el.space, el.elements()[0].space)
	}
	for _, bad := range []string{``, `<a/><b/>`, `text`, `<a/>text`, `<!--c--><a/>`, `<q:a/>`} {
		_, err := parseFragment([]byte(bad), l)
		var c *conflict
		if !errors.As(err, &c) || c.cond != condNotFragment {
			t.Errorf("%q: %v, want not-xml-frag", bad, err)
		}
	}
}

func TestFragmentDepthCountsFromParent(t *testing.T) {
	deep := strings.Repeat("<a>", maxDepth-1) + strings.Repeat("</a>", maxDepth-1)
	d := mustParse(t, deep)
	leaf := d.root
	for len(leaf.elements()) > 0 {
		leaf = leaf.elements()[0]
	}
	if _, err := parseFragment([]byte("<b/>"), leaf); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	if _, err := parseFragment([]byte("<b><c/></b>"), leaf); err == nil {
		t.Fatal("a fragment went past maxDepth")
	}
}
