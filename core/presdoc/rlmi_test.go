package presdoc

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"os"
	"reflect"
	"strings"
	"testing"
)

var sampleResources = []RLMIResource{
	{URI: "sip:bob@example.com", Name: "Bob Smith", State: "active", Body: Compose("sip:bob@example.com", Busy, nil, "")},
	{URI: "sip:carol@example.com", Name: "Carol & <co>", State: "pending"},
	{URI: "sip:dave@example.com", State: "terminated", Reason: "rejected"},
	{URI: "sip:ed@example.net", Name: "Ed"},
	{URI: "sip:fay@example.net", CID: "<given@example.net>", ContentType: "application/pidf+xml;charset=\"UTF-8\"\r\nX-Injected: 1",
		Body: Compose("sip:fay@example.net", Away, nil, "")},
	{URI: "sip:team@lists.example.com", State: "active", ContentType: "multipart/related;type=\"application/rlmi+xml\";boundary=inner",
		Body: []byte("--inner\r\nContent-Type: application/rlmi+xml\r\n\r\n<list/>\r\n--inner--\r\n")},
}

func TestComposeListGolden(t *testing.T) {
	for _, g := range goldens(t, "rlmi/*.txt") {
		t.Run(g.path, func(t *testing.T) {
			body, ct := ComposeList("sip:alice-buddies@pres.example.com", 3, true, sampleResources)
			g.check(t, append([]byte("Content-Type: "+ct+"\n\n"), body...))
		})
	}
}

// TestComposeListMIME reads ComposeList's output with mime/multipart
// alone: the boundary delimits exactly the parts, the RLMI document is
// the start part and comes first, and every instance cid has its part.
func TestComposeListMIME(t *testing.T) {
	body, ct := ComposeList("sip:alice-buddies@pres.example.com", 3, false, sampleResources)
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/related" || params["type"] != "application/rlmi+xml" {
		t.Fatalf("content type %q: %v", ct, err)
	}
	boundary := params["boundary"]
	if len(boundary) == 0 || len(boundary) > 70 || bytes.Count(body, []byte("--"+boundary)) != 5 {
		t.Fatalf("boundary %q appears %d times", boundary, bytes.Count(body, []byte("--"+boundary)))
	}
	if !bytes.HasPrefix(body, []byte("--"+boundary+"\r\n")) || !bytes.HasSuffix(body, []byte("\r\n--"+boundary+"--\r\n")) {
		t.Errorf("body does not start and end with the boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var cids []string
	var bodies [][]byte
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		if p.Header.Get("X-Injected") != "" {
			t.Errorf("header injected through ContentType")
		}
		cids = append(cids, p.Header.Get("Content-ID"))
		bodies = append(bodies, data)
		if len(cids) == 1 && p.Header.Get("Content-Type") != `application/rlmi+xml;charset="UTF-8"` {
			t.Errorf("first part type %q", p.Header.Get("Content-Type"))
		}
	}
	if len(cids) != 4 || cids[0] != params["start"] {
		t.Fatalf("parts %q, start %q", cids, params["start"])
	}
	if cids[2] != "<given@example.net>" {
		t.Errorf("caller's cid not kept: %q", cids[2])
	}
	if !bytes.Equal(bodies[1], sampleResources[0].Body) || !bytes.Equal(bodies[3], sampleResources[5].Body) {
		t.Errorf("part bodies changed")
	}
	wellFormed(t, bodies[0])
	if !bytes.Contains(bodies[0], []byte(`fullState="false"`)) {
		t.Errorf("fullState not written:\n%s", bodies[0])
	}
}

func TestListRoundTrip(t *testing.T) {
	body, ct := ComposeList("sip:alice-buddies@pres.example.com", 3, true, sampleResources)
	uri, version, rs, err := ParseList(ct, body)
	if err != nil {
		t.Fatal(err)
	}
	if uri != "sip:alice-buddies@pres.example.com" || version != 3 || len(rs) != len(sampleResources) {
		t.Fatalf("%q %d %d resources", uri, version, len(rs))
	}
	for i, want := range sampleResources {
		got := rs[i]
		if got.URI != want.URI || got.Name != want.Name || got.Reason != want.Reason || !bytes.Equal(got.Body, want.Body) {
			t.Errorf("resource %d: %+v", i, got)
		}
		if state := want.State; state == "" && want.Body != nil && got.State != "active" || state != "" && got.State != state {
			t.Errorf("resource %d state %q", i, got.State)
		}
		if (want.Body == nil) != (got.CID == "") || want.Body != nil && got.ContentType == "" {
			t.Errorf("resource %d cid %q type %q", i, got.CID, got.ContentType)
		}
	}
	if d, err := Parse(rs[0].Body); err != nil || d.Availability() != Busy {
		t.Errorf("bob's part: %v", err)
	}
	// Equal inputs, equal bodies.
	if again, ct2 := ComposeList("sip:alice-buddies@pres.example.com", 3, true, sampleResources); !bytes.Equal(again, body) || ct2 != ct {
		t.Errorf("ComposeList is not deterministic")
	}
}

func TestParseListRFC(t *testing.T) {
	body, err := os.ReadFile("testdata/rlmi/rfc4662.mime")
	if err != nil {
		t.Fatal(err)
	}
	ct := `multipart/related;type="application/rlmi+xml";start="<nXYxAE@pres.example.com>";boundary="50UBfW7LSCVLtggUPe5z"`
	uri, version, rs, err := ParseList(ct, body)
	if err != nil {
		t.Fatal(err)
	}
	if uri != "sip:adam-friends@pres.example.com" || version != 1 || len(rs) != 5 {
		t.Fatalf("%q %d %+v", uri, version, rs)
	}
	want := []struct{ uri, name, state, reason, cid string }{
		{"sip:bob@example.com", "Bob Smith", "active", "", "bUZBsM@pres.example.com"},
		{"sip:dave@example.com", "Dave Jones", "active", "", "ZvSvkz@pres.example.com"},
		{"sip:ed@example.net", "Ed at NET", "", "", ""},
		{"sip:adam-friends@example.org", "My Friends at ORG", "", "", ""},
		{"sip:zoe@example.org", "", "terminated", "rejected", ""},
	}
	for i, w := range want {
		r := rs[i]
		if r.URI != w.uri || r.Name != w.name || r.State != w.state || r.Reason != w.reason || r.CID != w.cid {
			t.Errorf("resource %d: %+v", i, r)
		}
	}
	levels := []Availability{Offline, Online}
	for i, l := range levels {
		d, err := Parse(rs[i].Body)
		if err != nil || d.Availability() != l || rs[i].ContentType != `application/pidf+xml;charset="UTF-8"` {
			t.Errorf("resource %d body: %v %q", i, err, rs[i].ContentType)
		}
	}
	// Without start, the first part is the root.
	ct = `multipart/related; type="application/rlmi+xml"; boundary=50UBfW7LSCVLtggUPe5z`
	if _, _, rs2, err := ParseList(ct, body); err != nil || !reflect.DeepEqual(rs2, rs) {
		t.Errorf("without start: %v", err)
	}
}

func TestParseListRejects(t *testing.T) {
	body, ct := ComposeList("sip:l@example.com", 1, true, sampleResources[:1])
	_, params, _ := mime.ParseMediaType(ct)
	b := params["boundary"]
	cases := map[string]struct {
		ct   string
		body []byte
		want error
	}{
		"not multipart":    {"application/pidf+xml", body, ErrMalformed},
		"wrong type param": {`multipart/related;type="application/pidf+xml";boundary=` + b, body, ErrMalformed},
		"no boundary":      {`multipart/related;type="application/rlmi+xml"`, body, ErrMalformed},
		"wrong boundary":   {`multipart/related;type="application/rlmi+xml";boundary=nope`, body, ErrMalformed},
		"bad header":       {`multipart/related;type=`, body, ErrMalformed},
		"missing start":    {`multipart/related;type="application/rlmi+xml";start="<x@y>";boundary=` + b, body, ErrMalformed},
		"truncated":        {ct, body[:len(body)-len(b)-6], ErrMalformed},
		"missing part":     {ct, cut(body, b, 1), ErrMalformed},
		"too large":        {ct, append(body, make([]byte, MaxListBodyBytes)...), ErrTooLarge},
	}
	for name, c := range cases {
		if _, _, _, err := ParseList(c.ct, c.body); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
}

// cut removes part i (0 is the root) from a multipart body.
func cut(body []byte, boundary string, i int) []byte {
	sep := "--" + boundary
	parts := strings.Split(string(body), sep)
	// parts[0] is the empty preamble, parts[len-1] the "--" epilogue.
	parts = append(parts[:i+1], parts[i+2:]...)
	return []byte(strings.Join(parts, sep))
}

func TestBoundaryAvoidsContent(t *testing.T) {
	seed := []byte("seed")
	first := boundaryFrom(seed, nil)
	parts := []mimePart{{body: []byte("x")}, {body: []byte("...\r\n--" + first + "\r\n...")}}
	second := boundaryFrom(seed, parts)
	if second == first || !strings.HasPrefix(second, "parley-") {
		t.Fatalf("boundary %q occurs in a part", second)
	}
	parts = append(parts, mimePart{body: []byte(second)})
	if third := boundaryFrom(seed, parts); third == first || third == second {
		t.Fatalf("boundary %q occurs in a part", third)
	}
}
