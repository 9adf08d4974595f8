package presdoc

import (
	"bytes"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// composeInput reads the input half of a compose golden file: entity,
// level and note lines, then "tuple: id basic contact priority device
// [timestamp]" lines with "-" for an empty field.
func composeInput(t *testing.T, in []byte) (entity string, level Availability, tuples []Tuple, note string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(string(in)), "\n") {
		key, val, _ := strings.Cut(line, ":")
		val = strings.TrimSpace(val)
		switch key {
		case "entity":
			entity = val
		case "note":
			note = val
		case "level":
			var err error
			if level, err = ParseAvailability(val); err != nil {
				t.Fatal(err)
			}
		case "tuple":
			f := strings.Fields(val)
			for i := range f {
				if f[i] == "-" {
					f[i] = ""
				}
			}
			prio, _ := strconv.ParseFloat(f[3], 64)
			tu := Tuple{ID: f[0], Basic: f[1], Contact: f[2], Priority: prio, DeviceID: f[4],
				Notes: []string{"tuple notes are dropped"}, Activities: []string{"away"}, UserInput: "idle"}
			if len(f) > 5 {
				tu.Timestamp, _ = time.Parse(time.RFC3339, f[5])
			}
			tuples = append(tuples, tu)
		default:
			t.Fatalf("bad input line %q", line)
		}
	}
	return
}

// TestComposeGolden checks the exact documents Compose writes, that they
// are well-formed, and that they read back as their level.
func TestComposeGolden(t *testing.T) {
	for _, g := range goldens(t, "compose/*.txt") {
		t.Run(g.path, func(t *testing.T) {
			entity, level, tuples, note := composeInput(t, g.input)
			out := Compose(entity, level, tuples, note)
			g.check(t, out)
			wellFormed(t, out)
			d, err := Parse(out)
			if err != nil {
				t.Fatalf("Parse(Compose): %v", err)
			}
			if got := d.Availability(); got != level {
				t.Errorf("read back as %s, want %s", got, level)
			}
			if d.Entity != entity {
				t.Errorf("entity %q, want %q", d.Entity, entity)
			}
		})
	}
}

// wellFormed decodes b with encoding/xml's own strict decoder.
func wellFormed(t *testing.T, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, b)
		}
	}
}

// TestRoundTrip: for every level, whatever tuples and note the caller
// passes, Compose reads back as that level, and composing the parsed
// result again gives the same bytes.
func TestRoundTrip(t *testing.T) {
	tupleSets := map[string][]Tuple{
		"none":        nil,
		"open":        {{ID: "a", Basic: "open", Contact: "sip:a@h"}},
		"closed only": {{ID: "a", Basic: "closed"}, {ID: "b", Basic: "closed"}},
		"unset":       {{ID: "a"}},
		"duplicates":  {{ID: "x", Basic: "open"}, {ID: "x", Basic: "closed"}, {ID: "person"}, {ID: "state", Basic: "closed"}},
		"noisy": {{ID: "a", Basic: "open", Notes: []string{"Do not disturb"}, Activities: []string{"meeting"}, UserInput: "idle"},
			{ID: "b", Basic: "open", Notes: []string{"offline"}}},
	}
	notes := []string{"", "Busy", "offline", "be-right-back", "Working from home", "  "}
	for _, level := range Levels {
		for name, tuples := range tupleSets {
			for _, note := range notes {
				out := Compose("pres:a@example.com", level, tuples, note)
				d, err := Parse(out)
				if err != nil {
					t.Fatalf("%s/%s/%q: %v", level, name, note, err)
				}
				if got := d.Availability(); got != level {
					t.Errorf("%s/%s/%q: read back as %s\n%s", level, name, note, got, out)
				}
				again := Compose(d.Entity, level, d.Tuples, firstNote(d))
				if !bytes.Equal(again, out) {
					t.Errorf("%s/%s/%q: not stable:\n%s\nthen\n%s", level, name, note, out, again)
				}
			}
		}
	}
}

func TestComposeInvalidLevel(t *testing.T) {
	d, err := Parse(Compose("pres:a@b", Availability(42), nil, ""))
	if err != nil || d.Availability() != Offline {
		t.Fatalf("invalid level should compose as offline: %v", err)
	}
}

func TestNCName(t *testing.T) {
	for in, want := range map[string]string{
		"t4109": "t4109", "": "", "9abc": "x9abc", "-a": "x-a", "_a.b-c": "_a.b-c",
		"sip:carol@example.org": "sipcarolexample.org", "héllo": "hllo", "!!!": "",
		strings.Repeat("a", 100): strings.Repeat("a", 64),
	} {
		if got := ncName(in); got != want {
			t.Errorf("ncName(%q) = %q, want %q", in, got, want)
		}
	}
}
