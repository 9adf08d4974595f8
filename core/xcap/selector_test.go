package xcap

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseSelector(t *testing.T) {
	ns := map[string]string{"rl": NamespaceResourceLists, "x": "urn:x"}
	for _, tc := range []struct {
		in, canon string // canon "" means the same as in; "!" means an error
	}{
		{`resource-lists`, ""},
		{`resource-lists/list[@name="friends"]/entry[@uri="sip:bob@example.com"]`, ""},
		{`resource-lists/list[@name='a/b']/entry[2]`, `resource-lists/list[@name="a/b"]/entry[2]`},
		{`resource-lists/list[3][@name="x"]`, ""},
		{`resource-lists/*[1]/*`, ""},
		{`rl:resource-lists/rl:list[@x:a="v"]`, ""},
		{`resource-lists/list[@name="&quot;&amp;&lt;&#65;&#x42;'"]`, `resource-lists/list[@name="&quot;&amp;&lt;AB'"]`},
		{`resource-lists/list/@name`, ""},
		{`resource-lists/list/@xml:lang`, ""},
		{`resource-lists/list/namespace::*`, ""},
		{`resource-lists/list[007]`, `resource-lists/list[7]`},
		{``, "!"},
		{`/resource-lists`, "!"},
		{`resource-lists/`, "!"},
		{`resource-lists//list`, "!"},
		{`@name`, "!"},
		{`namespace::*`, "!"},
		{`resource-lists/@a/b`, "!"},
		{`resource-lists/list[0]`, "!"},
		{`resource-lists/list[-1]`, "!"},
		{`resource-lists/list[+1]`, "!"},
		{`resource-lists/list[1`, "!"},
		{`resource-lists/list[@name]`, "!"},
		{`resource-lists/list[@name=x]`, "!"},
		{`resource-lists/list[@name="x']`, "!"},
		{`resource-lists/list[@name="x"][1]`, "!"},
		{`resource-lists/list[@name="a"b"]`, "!"},
		{`resource-lists/list[@name="a<b"]`, "!"},
		{`resource-lists/list[@name="a&b"]`, "!"},
		{`resource-lists/list[@name="&#0;"]`, "!"},
		{`resource-lists/list[@name="&bogus;"]`, "!"},
		{`resource-lists/list[@xmlns="x"]`, "!"},
		{`resource-lists/list/@xmlns:x`, "!"},
		{`q:resource-lists`, "!"},
		{`1list`, "!"},
		{`a:b:c`, "!"},
		{`resource-lists/list[@name="unterminated`, "!"},
	} {
		sel, err := parseSelector(tc.in, ns, NamespaceResourceLists)
		if tc.canon == "!" {
			if err == nil || !errors.Is(err, errSelector) {
				t.Errorf("%q: err = %v, want errSelector", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		want := tc.canon
		if want == "" {
			want = tc.in
		}
		if got := sel.String(); got != want {
			t.Errorf("%q: String() = %q, want %q", tc.in, got, want)
		}
		again, err := parseSelector(sel.String(), ns, NamespaceResourceLists)
		if err != nil || !reflect.DeepEqual(again, sel) {
			t.Errorf("%q: does not round trip: %v", tc.in, err)
		}
	}
}

func TestSelect(t *testing.T) {
	d := mustParse(t, `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists" xmlns:x="urn:x">
  <list name="a">
    <display-name>A</display-name>
    <entry uri="sip:1@h"/>
    <x:entry uri="sip:foreign@h"/>
    <entry uri="sip:2@h"/>
    <list name="inner"><entry uri="sip:3@h"/></list>
  </list>
  <list name="b"><entry uri="sip:1@h"/></list>
</resource-lists>`)
	ns := map[string]string{"y": "urn:x"}
	for _, tc := range []struct {
		sel  string
		want []string // uri or name attributes of the selected elements
	}{
		{`resource-lists`, []string{""}},
		{`list`, nil},
		{`resource-lists[1]`, []string{""}},
		{`resource-lists[2]`, nil},
		{`resource-lists/list`, []string{"a", "b"}},
		{`resource-lists/list[2]`, []string{"b"}},
		{`resource-lists/list[@name="b"]`, []string{"b"}},
		{`resource-lists/list[1][@name="b"]`, nil},
		{`resource-lists/list/entry`, []string{"sip:1@h", "sip:2@h", "sip:1@h"}},
		{`resource-lists/list/entry[@uri="sip:1@h"]`, []string{"sip:1@h", "sip:1@h"}},
		{`resource-lists/list[@name="a"]/entry[2]`, []string{"sip:2@h"}},
		{`resource-lists/list[@name="a"]/*[3]`, []string{"sip:foreign@h"}},
		{`resource-lists/list[@name="a"]/y:entry`, []string{"sip:foreign@h"}},
		{`resource-lists/list[@name="a"]/list/entry`, []string{"sip:3@h"}},
		{`resource-lists/list[@name="c"]/entry`, nil},
	} {
		sel, err := parseSelector(tc.sel, ns, NamespaceResourceLists)
		if err != nil {
			t.Fatalf("%q: %v", tc.sel, err)
		}
		var got []string
		for _, n := range selectSteps(sel.steps, d) {
			v, ok := n.attr("", "uri")
			if !ok {
				v, _ = n.attr("", "name")
			}
			got = append(got, v)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q selects %q, want %q", tc.sel, got, tc.want)
		}
	}
}

func TestParseXMLNS(t *testing.T) {
	ns, err := parseXMLNS("xmlns(a=urn:a)%20xmlns(b=urn:b^)c)")
	if err != nil || ns["a"] != "urn:a" || ns["b"] != "urn:b)c" {
		t.Fatalf("%v %v", ns, err)
	}
	for _, bad := range []string{"foo", "xmlns(a)", "xmlns(=u)", "xmlns(a=u", "xmlns(xml=u)", "xmlns(a=u)junk", "%zz"} {
		if _, err := parseXMLNS(bad); !errors.Is(err, errSelector) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		path          string
		auid, xui     string
		doc, selector string
		err           error
	}{
		{"/r/resource-lists/users/sip:alice@localhost/index", AUIDResourceLists, "sip:alice@localhost", "index", "", nil},
		{"/r/resource-lists/users/sip%3Aalice%40Example.COM/dir/index/~~/resource-lists/list%5B@name=%22a%2Fb%22%5D",
			AUIDResourceLists, "sip:alice@example.com", "dir/index", `resource-lists/list[@name="a/b"]`, nil},
		{"/r/pres-rules/users/sips:al%20ice@h:5061;transport=tls/index", AUIDPresRules, "sip:al%20ice@h", "index", "", nil},
		{"/r/xcap-caps/global/index", AUIDXCAPCaps, "", "index", "", nil},
		{"/r/xcap-caps/global/other", "", "", "", "", errNoResource},
		{"/r/xcap-caps/users/sip:a@b/index", "", "", "", "", errNoResource},
		{"/r/resource-lists/users/sip:a@b/index/~~/", "", "", "", "", errSelector},
		{"/r/resource-lists/users/sip:a@b/~~/x", "", "", "", "", errNoResource},
		{"/r/resource-lists/users/sip:a@b", "", "", "", "", errNoResource},
		{"/r/resource-lists/users/sip:b/index", "", "", "", "", errNoResource},
		{"/r/resource-lists/users/sip:a@b/x//index", "", "", "", "", errNoResource},
		{"/r/resource-lists/users/sip:a@b/%zz", "", "", "", "", errNoResource},
		{"/r2/resource-lists/users/sip:a@b/index", "", "", "", "", errNoResource},
	} {
		got, err := parseTarget("/r", tc.path)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: err = %v, want %v", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil || got.usage.auid != tc.auid || got.xui != tc.xui || got.doc != tc.doc || got.selector != tc.selector {
			t.Errorf("%s: %+v %v", tc.path, got, err)
		}
	}
}

func TestCanonicalXUI(t *testing.T) {
	for in, want := range map[string]string{
		"sip:alice@localhost":            "sip:alice@localhost",
		"SIP:alice@LocalHost:5060":       "sip:alice@localhost",
		"sips:alice@localhost;transport": "sip:alice@localhost",
		"alice@localhost":                "sip:alice@localhost",
		"sip:a%6Cice@localhost":          "sip:alice@localhost",
		"sip:al ice@[::1]:5060":          "sip:al%20ice@[::1]",
		"sip:+4930123;phone@gw":          "sip:+4930123;phone@gw",
	} {
		if got, err := CanonicalXUI(in); err != nil || got != want {
			t.Errorf("CanonicalXUI(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "sip:localhost", "tel:+123", "sip:@h", "sip:a@", "sip:a@h/x", "sip:a%00@h", "mailto:a@b"} {
		if got, err := CanonicalXUI(bad); err == nil {
			t.Errorf("CanonicalXUI(%q) = %q, want an error", bad, got)
		}
	}
}
