package presdoc

import (
	"strconv"
	"strings"
	"time"
)

// personID names the person element Compose writes.
const personID = "person"

// levelActivities are the RPID activities Compose writes for each level.
// RFC 4480 has no do-not-disturb or be-right-back activity: those levels
// add an <rpid:other> naming them to the nearest standard activity, so a
// plain RPID client still shows busy or away.
var levelActivities = [...][]string{
	Offline:      nil,
	Online:       nil,
	Busy:         {"busy"},
	DoNotDisturb: {"busy", "other:do-not-disturb"},
	BeRightBack:  {"away", "other:be-right-back"},
	Away:         {"away"},
	InAMeeting:   {"meeting"},
}

// Compose writes the PIDF document watchers of entity receive for level:
// the tuples (each one's basic status, contact, priority, device and
// timestamp; per-tuple activities, user input and notes are left out so
// the single person element states the level), a top-level note for
// clients that read only PIDF, and one dm:person with the RPID activities
// of the level (docs/presence.md) and Away's <rpid:user-input>idle. With
// level Offline every tuple is closed; otherwise tuples without a status
// are open, and if none is open an open tuple is added. An empty note, or
// one naming another level, is replaced by the level's own (Note). The
// result always parses back to level.
func Compose(entity string, level Availability, tuples []Tuple, note string) []byte {
	d := stateDocument(entity, level, tuples, note)
	return d.Bytes()
}

// stateDocument is the document Compose writes, as a Document.
func stateDocument(entity string, level Availability, tuples []Tuple, note string) Document {
	if !level.valid() {
		level = Offline
	}
	if a, ok := textLevel(note); ok && a != level || strings.TrimSpace(note) == "" {
		note = level.Note()
	}
	note = strings.TrimSpace(note)
	d := Document{Entity: entity, Notes: []string{note}}
	ids := map[string]bool{personID: true}
	open := false
	for i, t := range tuples {
		out := Tuple{
			ID:        uniqueID(ids, t.ID, "t"+strconv.Itoa(i+1)),
			Basic:     t.Basic,
			Contact:   t.Contact,
			Priority:  t.Priority,
			Timestamp: t.Timestamp,
			DeviceID:  t.DeviceID,
		}
		switch {
		case level == Offline:
			out.Basic = "closed"
		case out.Basic != "closed":
			out.Basic = "open"
		}
		open = open || out.Basic == "open"
		d.Tuples = append(d.Tuples, out)
	}
	if len(d.Tuples) == 0 || level != Offline && !open {
		basic := "open"
		if level == Offline {
			basic = "closed"
		}
		d.Tuples = append(d.Tuples, Tuple{ID: uniqueID(ids, "state", "state"), Basic: basic})
	}
	p := Person{ID: personID, Activities: levelActivities[level], Notes: []string{note}}
	if level == Away {
		p.UserInput = "idle"
	}
	d.Persons = []Person{p}
	return d
}

// uniqueID makes id a valid XML ID (an NCName) not yet in seen, falling
// back to def for an empty or unusable one, and records it.
func uniqueID(seen map[string]bool, id, def string) string {
	id = ncName(id)
	if id == "" {
		id = def
	}
	base := id
	for n := 2; seen[id]; n++ {
		id = base + "-" + strconv.Itoa(n)
	}
	seen[id] = true
	return id
}

// ncName keeps ASCII letters, digits, '.', '-' and '_' of s (at most 64),
// prefixed with 'x' if it would not start with a letter or '_'.
func ncName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
		if b.Len() >= 64 {
			break
		}
	}
	out := b.String()
	if out != "" && !(out[0] == '_' || out[0] >= 'a' && out[0] <= 'z' || out[0] >= 'A' && out[0] <= 'Z') {
		out = "x" + out
	}
	return out
}

// Bytes writes d as PIDF with the data-model and RPID namespaces, elements
// in schema order. Tuple activities have no place in RFC 4480 and are not
// written; everything else Parse reads is.
func (d *Document) Bytes() []byte {
	w := newWriter()
	w.open("presence", "xmlns", nsPIDF, "xmlns:dm", nsDM, "xmlns:rpid", nsRPID, "entity", d.Entity)
	for _, t := range d.Tuples {
		w.open("tuple", "id", t.ID)
		w.open("status")
		if t.Basic != "" {
			w.leaf("basic", t.Basic)
		}
		w.close("status")
		if t.DeviceID != "" {
			w.leaf("dm:deviceID", t.DeviceID)
		}
		if t.UserInput != "" {
			w.leaf("rpid:user-input", t.UserInput)
		}
		if t.Contact != "" {
			var prio string
			if t.Priority > 0 && t.Priority <= 1 {
				prio = strconv.FormatFloat(t.Priority, 'f', -1, 64)
			}
			w.leaf("contact", t.Contact, "priority", prio)
		}
		for _, n := range t.Notes {
			w.leaf("note", n)
		}
		if !t.Timestamp.IsZero() {
			w.leaf("timestamp", t.Timestamp.UTC().Format(time.RFC3339Nano))
		}
		w.close("tuple")
	}
	for _, n := range d.Notes {
		w.leaf("note", n)
	}
	for _, p := range d.Persons {
		writePerson(w, p)
	}
	w.close("presence")
	return w.bytes()
}

func writePerson(w *writer, p Person) {
	w.open("dm:person", "id", p.ID)
	if len(p.Activities) > 0 {
		w.open("rpid:activities")
		for _, a := range p.Activities {
			if text, ok := strings.CutPrefix(a, "other:"); ok {
				w.leaf("rpid:other", text)
			} else if name := ncName(a); name == a && a != "" {
				w.empty("rpid:" + a)
			} else {
				w.leaf("rpid:other", a)
			}
		}
		w.close("rpid:activities")
	}
	if p.Class != "" {
		w.leaf("rpid:class", p.Class)
	}
	if p.UserInput != "" {
		w.leaf("rpid:user-input", p.UserInput)
	}
	for _, n := range p.Notes {
		w.leaf("dm:note", n)
	}
	w.close("dm:person")
}
