package presdoc

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Document is one PIDF presence document.
type Document struct {
	Entity  string   // pres:alice@localhost or sip:...
	Tuples  []Tuple  // services (PIDF tuples)
	Persons []Person // RPID person elements (RFC 4479 data model)
	Notes   []string // notes directly under <presence>
}

// Tuple is one PIDF tuple: a service or device of the presentity.
type Tuple struct {
	ID         string
	Basic      string // "open", "closed", or "" when absent or neither
	Contact    string
	Priority   float64 // the contact's priority, 0 when absent
	Timestamp  time.Time
	Notes      []string
	Activities []string // activities found inside the tuple (old RPID drafts put them there)
	UserInput  string   // "active", "idle" or ""
	DeviceID   string   // dm:deviceID
}

// Person is one RPID person element.
type Person struct {
	ID         string
	Activities []string // local names: away, busy, meeting, other:<text>
	UserInput  string   // "active", "idle" or ""
	Notes      []string // dm:note and the rpid:note of activities
	Class      string   // rpid:class ("manual" marks a state the user set)
}

// Parse reads an application/pidf+xml body. Errors wrap ErrMalformed or
// ErrTooLarge.
func Parse(body []byte) (*Document, error) {
	root, err := parseTree(body, pidfLimits)
	if err != nil {
		return nil, err
	}
	if !root.is(nsPIDF, "presence") {
		return nil, malformed("root is {%s}%s, want {%s}presence", root.space, root.local, nsPIDF)
	}
	d := &Document{}
	d.Entity, _ = root.attr("entity")
	d.Entity = strings.TrimSpace(d.Entity)
	inputs := map[string]string{} // deviceID -> user-input of dm:device elements
	for _, k := range root.kids {
		switch {
		case k.is(nsPIDF, "tuple"):
			d.Tuples = append(d.Tuples, parseTuple(k))
		case k.is(nsPIDF, "note"):
			d.Notes = appendText(d.Notes, k)
		case k.is(nsDM, "person"), k.is(nsRPID, "person"):
			d.Persons = append(d.Persons, parsePerson(k))
		case k.is(nsDM, "device"):
			var id, input string
			for _, c := range k.kids {
				switch {
				case c.is(nsDM, "deviceID"):
					id = c.trimmed()
				case c.is(nsRPID, "user-input"):
					input = userInput(c)
				}
			}
			if id != "" && input != "" {
				inputs[id] = input
			}
		}
	}
	// A device's user input belongs to the tuples it runs (RFC 4479 4.4).
	for i := range d.Tuples {
		t := &d.Tuples[i]
		if in, ok := inputs[t.DeviceID]; ok && t.UserInput == "" && t.DeviceID != "" {
			t.UserInput = in
		}
	}
	return d, nil
}

func parseTuple(n *node) Tuple {
	t := Tuple{}
	t.ID, _ = n.attr("id")
	for _, k := range n.kids {
		switch {
		case k.is(nsPIDF, "status"):
			for _, s := range k.kids {
				switch {
				case s.is(nsPIDF, "basic"):
					switch b := strings.ToLower(s.trimmed()); b {
					case "open", "closed":
						t.Basic = b
					}
				case isActivities(s):
					acts, notes := parseActivities(s)
					t.Activities = append(t.Activities, acts...)
					t.Notes = append(t.Notes, notes...)
				case s.is(nsRPID, "user-input"):
					t.UserInput = userInput(s)
				}
			}
		case k.is(nsPIDF, "contact"):
			t.Contact = k.trimmed()
			if p, ok := k.attr("priority"); ok {
				t.Priority = priority(p)
			}
		case k.is(nsPIDF, "note"):
			t.Notes = appendText(t.Notes, k)
		case k.is(nsPIDF, "timestamp"):
			t.Timestamp = timestamp(k.trimmed())
		case k.is(nsDM, "deviceID"):
			t.DeviceID = k.trimmed()
		case k.is(nsRPID, "user-input"):
			t.UserInput = userInput(k)
		case isActivities(k):
			acts, notes := parseActivities(k)
			t.Activities = append(t.Activities, acts...)
			t.Notes = append(t.Notes, notes...)
		}
	}
	return t
}

func parsePerson(n *node) Person {
	p := Person{}
	p.ID, _ = n.attr("id")
	for _, k := range n.kids {
		switch {
		case isActivities(k):
			acts, notes := parseActivities(k)
			p.Activities = append(p.Activities, acts...)
			p.Notes = append(p.Notes, notes...)
		case k.is(nsRPID, "user-input"):
			p.UserInput = userInput(k)
		case k.is(nsDM, "note"), k.is(nsPIDF, "note"):
			p.Notes = appendText(p.Notes, k)
		case k.is(nsRPID, "class"):
			p.Class = k.trimmed()
		}
	}
	return p
}

func isActivities(n *node) bool { return n.is(nsRPID, "activities") || n.is(nsOldRP, "activities") }

// parseActivities reads <rpid:activities> (RFC 4480: one empty element per
// activity, <other> with text) or the draft form <es:activities> with
// <es:activity>text</es:activity> children. Elements of other namespaces
// (extension activities) are skipped.
func parseActivities(n *node) (acts, notes []string) {
	for _, k := range n.kids {
		switch {
		case k.space == nsRPID && k.local == "note":
			notes = appendText(notes, k)
		case k.space == nsRPID && k.local == "other":
			if s := k.trimmed(); s != "" {
				acts = append(acts, "other:"+s)
			}
		case k.space == nsRPID:
			acts = append(acts, k.local)
		case k.is(nsOldRP, "activity"):
			if s := strings.ToLower(k.trimmed()); s != "" {
				acts = append(acts, s)
			}
		}
	}
	return acts, notes
}

func appendText(list []string, n *node) []string {
	if s := n.trimmed(); s != "" {
		return append(list, s)
	}
	return list
}

func userInput(n *node) string {
	switch s := strings.ToLower(n.trimmed()); s {
	case "active", "idle":
		return s
	}
	return ""
}

// priority reads a contact priority (a qvalue, 0 to 1); anything else is 0.
func priority(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
		return 0
	}
	return f
}

// timestamp reads an xs:dateTime; without a zone it is taken as UTC.
func timestamp(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
