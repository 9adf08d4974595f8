package presdoc

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestParseGolden parses real-world and RFC publications; the expected
// half holds the level and everything Parse read.
func TestParseGolden(t *testing.T) {
	for _, g := range goldens(t, "parse/*.txt") {
		t.Run(g.path, func(t *testing.T) {
			d, err := Parse(g.input)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			g.check(t, []byte(dump(d)))
		})
	}
}

// TestParseLevels pins the level of each sample, independent of the
// golden dumps, so a careless -update cannot hide a mapping change.
func TestParseLevels(t *testing.T) {
	want := map[string]Availability{
		"rfc3863-basic":        Online,
		"rfc3863-prefixed":     DoNotDisturb, // note "Don't Disturb Me!"
		"rfc3863-closed":       Offline,
		"rfc4480-full":         DoNotDisturb, // tuple note beats the person's away
		"rfc4480-away-idle":    Away,
		"rfc4480-on-the-phone": Busy,
		"rfc4480-meeting":      InAMeeting,
		"rfc4480-presentation": DoNotDisturb,
		"rfc4480-vacation":     Away,
		"rfc4480-appointment":  InAMeeting,
		"rfc4480-performance":  Busy,
		"rfc4480-steering":     Away,
		"rfc4480-unknown":      Online,
		"rfc4480-working":      Online,
		"rfc4480-other-brb":    BeRightBack,
		"rfc4480-other-dnd":    DoNotDisturb,
		"rfc4480-mood-other":   Online, // <other> of mood, activities of a foreign namespace
		"baresip-open":         Online,
		"baresip-closed":       Offline,
		"baresip-unknown":      Offline,
		"notes-online":         Online,
		"notes-busy":           Busy,
		"notes-away":           Away,
		"notes-dnd":            DoNotDisturb,
		"notes-brb":            BeRightBack,
		"notes-meeting":        InAMeeting,
		"notes-offline":        Offline,
		"notes-busy-closed":    Offline,
		"notes-lunch":          Away,
		"notes-freetext":       Online,
		"linphone-person":      Away,
		"linphone-person-busy": Busy,
		"legacy-busy":          Busy,
		"legacy-brb":           BeRightBack,
		"legacy-away":          Away,
		"legacy-lunch":         Away,
		"legacy-phone":         Busy,
		"device-idle":          Away,
		"tuple-idle-mixed":     Online,
		"person-only-calendar": InAMeeting,
		"manual-class":         BeRightBack,
		"empty-presence":       Offline,
		"latin1":               Online,
	}
	seen := 0
	for _, g := range goldens(t, "parse/*.txt") {
		name := strings.TrimSuffix(g.path[len("testdata/parse/"):], ".txt")
		level, ok := want[name]
		if !ok {
			t.Errorf("%s: no expected level", name)
			continue
		}
		seen++
		d, err := Parse(g.input)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := d.Availability(); got != level {
			t.Errorf("%s: level %s, want %s", name, got, level)
		}
	}
	if seen != len(want) {
		t.Errorf("%d samples checked, %d expected", seen, len(want))
	}
}

func TestParseFields(t *testing.T) {
	d, err := Parse([]byte(`<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
		xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity=" pres:a@b ">
		<tuple id="x"><status><basic> OPEN </basic></status>
		<contact priority="1.5">sip:a@b</contact><timestamp>2020-01-02T03:04:05.5+01:00</timestamp></tuple>
		<tuple id="y"><status><basic>maybe</basic></status><contact priority="abc">sip:a@c</contact>
		<timestamp>yesterday</timestamp><rpid:user-input>sleepy</rpid:user-input></tuple>
		<dm:person id="p"><rpid:class>manual</rpid:class><rpid:activities><rpid:other> </rpid:other></rpid:activities></dm:person>
		</presence>`))
	if err != nil {
		t.Fatal(err)
	}
	x, y := d.Tuples[0], d.Tuples[1]
	if d.Entity != "pres:a@b" || x.Basic != "open" || x.Priority != 0 || !x.Timestamp.Equal(time.Date(2020, 1, 2, 2, 4, 5, 5e8, time.UTC)) {
		t.Errorf("tuple x: %+v (entity %q)", x, d.Entity)
	}
	if y.Basic != "" || y.Priority != 0 || !y.Timestamp.IsZero() || y.UserInput != "" {
		t.Errorf("tuple y, odd values should read as absent: %+v", y)
	}
	if p := d.Persons[0]; p.Class != "manual" || len(p.Activities) != 0 {
		t.Errorf("person: %+v", p)
	}
}

func TestParseRejects(t *testing.T) {
	const open = `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:a@b">`
	deep := open + strings.Repeat("<x>", MaxDepth) + strings.Repeat("</x>", MaxDepth) + "</presence>"
	okDeep := open + strings.Repeat("<x>", MaxDepth-1) + strings.Repeat("</x>", MaxDepth-1) + "</presence>"
	many := open + strings.Repeat("<note>n</note>", MaxPIDFElements) + "</presence>"
	okMany := open + strings.Repeat("<note>n</note>", MaxPIDFElements-1) + "</presence>"
	big := open + strings.Repeat(" ", MaxPIDFBytes) + "</presence>"
	laughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:a@b"><note>&lol9;</note></presence>`
	cases := []struct {
		name, body string
		want       error // nil: must parse
	}{
		{"billion laughs", laughs, ErrMalformed},
		{"plain doctype", `<!DOCTYPE presence SYSTEM "pidf.dtd">` + open + `</presence>`, ErrMalformed},
		{"external entity", `<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + open + `<note>&x;</note></presence>`, ErrMalformed},
		{"undefined entity", open + `<note>&x;</note></presence>`, ErrMalformed},
		{"oversized", big, ErrTooLarge},
		{"at size limit", open + strings.Repeat(" ", MaxPIDFBytes-len(open)-len("</presence>")) + "</presence>", nil},
		{"too deep", deep, ErrMalformed},
		{"deep but allowed", okDeep, nil},
		{"too many elements", many, ErrTooLarge},
		{"many but allowed", okMany, nil},
		{"root without namespace", `<presence entity="pres:a@b"/>`, ErrMalformed},
		{"root in wrong namespace", `<presence xmlns="urn:ietf:params:xml:ns:pidf:data-model" entity="pres:a@b"/>`, ErrMalformed},
		{"wrong root", `<tuple xmlns="urn:ietf:params:xml:ns:pidf" id="a"/>`, ErrMalformed},
		{"xpidf", `<?xml version="1.0"?><presence><presentity uri="sip:a@b"/></presence>`, ErrMalformed},
		{"not xml", "hello, world", ErrMalformed},
		{"empty", "", ErrMalformed},
		{"only a declaration", `<?xml version="1.0"?>`, ErrMalformed},
		{"two roots", open + `</presence>` + open + `</presence>`, ErrMalformed},
		{"text after root", open + `</presence>trailing`, ErrMalformed},
		{"unclosed", open + `<tuple id="a">`, ErrMalformed},
		{"mismatched end tag (old Linphone)", open + `<tuple id="a"><es:activity xmlns:es="urn:x">a</e:activity></tuple></presence>`, ErrMalformed},
		{"invalid utf-8", open + "<note>\xff\xfe</note></presence>", ErrMalformed},
		{"unknown charset", `<?xml version="1.0" encoding="EBCDIC-US"?>` + open + `</presence>`, ErrMalformed},
		{"json", `{"presence":"open"}`, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := Parse([]byte(c.body))
			if c.want == nil && err != nil {
				t.Fatalf("want success, got %v", err)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestNilDocumentIsOffline(t *testing.T) {
	var d *Document
	if got := d.Availability(); got != Offline {
		t.Errorf("nil document: %s", got)
	}
	if got := (&Document{}).Availability(); got != Offline {
		t.Errorf("empty document: %s", got)
	}
}

// TestMatchByNamespaceURI: prefixes mean nothing, URIs everything.
func TestMatchByNamespaceURI(t *testing.T) {
	cases := map[string]struct {
		body string
		want Availability
	}{
		"rpid prefix bound elsewhere": {`<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:rpid="urn:example:not-rpid" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model">
			<tuple id="t"><status><basic>open</basic></status></tuple>
			<dm:person id="p"><rpid:activities><rpid:busy/></rpid:activities></dm:person></presence>`, Online},
		"default namespace rpid": {`<presence xmlns="urn:ietf:params:xml:ns:pidf">
			<tuple id="t"><status><basic>open</basic></status></tuple>
			<person xmlns="urn:ietf:params:xml:ns:pidf:data-model" id="p">
			<activities xmlns="urn:ietf:params:xml:ns:pidf:rpid"><busy/></activities></person></presence>`, Busy},
		"undeclared prefix": {`<presence xmlns="urn:ietf:params:xml:ns:pidf">
			<tuple id="t"><status><basic>open</basic></status></tuple>
			<dm:person id="p"><rpid:activities><rpid:busy/></rpid:activities></dm:person></presence>`, Online},
		"basic in wrong namespace": {`<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:x="urn:x">
			<tuple id="t"><status><x:basic>open</x:basic></status></tuple></presence>`, Offline},
	}
	for name, c := range cases {
		d, err := Parse([]byte(c.body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := d.Availability(); got != c.want {
			t.Errorf("%s: %s, want %s", name, got, c.want)
		}
	}
}
