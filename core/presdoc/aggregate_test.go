package presdoc

import (
	"testing"
	"time"
)

// pub builds a publication whose document reads as level, with one tuple
// named id, updated at minute min.
func pub(t *testing.T, id string, level Availability, min int, manual bool) Publication {
	t.Helper()
	d, err := Parse(Compose("pres:alice@example.com", level, []Tuple{{ID: id, Contact: "sip:alice@" + id}}, ""))
	if err != nil {
		t.Fatal(err)
	}
	if d.Availability() != level {
		t.Fatalf("fixture %s reads as %s", level, d.Availability())
	}
	return Publication{ETag: id, Doc: d, Updated: time.Date(2025, 1, 1, 9, min, 0, 0, time.UTC), Manual: manual}
}

func TestAggregate(t *testing.T) {
	cases := []struct {
		name string
		pubs func(t *testing.T) []Publication
		want Availability
	}{
		{"none", func(*testing.T) []Publication { return nil }, Offline},
		{"nil document only", func(*testing.T) []Publication { return []Publication{{ETag: "x"}} }, Offline},
		{"one online", func(t *testing.T) []Publication { return []Publication{pub(t, "a", Online, 1, false)} }, Online},
		{"online beats idle device", func(t *testing.T) []Publication {
			return []Publication{pub(t, "desk", Online, 1, false), pub(t, "laptop", Away, 2, false)}
		}, Online},
		{"busy beats online", func(t *testing.T) []Publication {
			return []Publication{pub(t, "phone", Busy, 1, false), pub(t, "pc", Online, 5, false)}
		}, Busy},
		{"meeting beats busy", func(t *testing.T) []Publication {
			return []Publication{pub(t, "a", Busy, 9, false), pub(t, "b", InAMeeting, 1, false)}
		}, InAMeeting},
		{"dnd beats everything automatic", func(t *testing.T) []Publication {
			return []Publication{pub(t, "a", InAMeeting, 9, false), pub(t, "b", DoNotDisturb, 1, false), pub(t, "c", Online, 5, false)}
		}, DoNotDisturb},
		{"be-right-back beats away", func(t *testing.T) []Publication {
			return []Publication{pub(t, "a", Away, 9, false), pub(t, "b", BeRightBack, 1, false)}
		}, BeRightBack},
		{"online beats be-right-back", func(t *testing.T) []Publication {
			return []Publication{pub(t, "a", BeRightBack, 9, false), pub(t, "b", Online, 1, false)}
		}, Online},
		{"anything beats offline", func(t *testing.T) []Publication {
			return []Publication{pub(t, "a", Offline, 9, false), pub(t, "b", Away, 1, false)}
		}, Away},
		{"all offline", func(t *testing.T) []Publication {
			return []Publication{pub(t, "a", Offline, 9, false), pub(t, "b", Offline, 1, false)}
		}, Offline},
		{"manual beats automatic dnd", func(t *testing.T) []Publication {
			return []Publication{pub(t, "a", DoNotDisturb, 9, false), pub(t, "ui", Online, 1, true)}
		}, Online},
		{"newest manual wins", func(t *testing.T) []Publication {
			return []Publication{pub(t, "m1", Busy, 3, true), pub(t, "m2", BeRightBack, 7, true), pub(t, "m3", DoNotDisturb, 5, true)}
		}, BeRightBack},
		{"manual appear offline", func(t *testing.T) []Publication {
			return []Publication{pub(t, "a", Online, 9, false), pub(t, "ui", Offline, 1, true)}
		}, Offline},
		{"nil documents skipped", func(t *testing.T) []Publication {
			return []Publication{{ETag: "x", Manual: true}, pub(t, "a", Busy, 1, false)}
		}, Busy},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pubs := c.pubs(t)
			level, doc := Aggregate(pubs)
			if level != c.want {
				t.Fatalf("level %s, want %s", level, c.want)
			}
			if got := doc.Availability(); got != level {
				t.Errorf("document reads as %s, level %s", got, level)
			}
			d, err := Parse(doc.Bytes())
			if err != nil || d.Availability() != level {
				t.Fatalf("document bytes: %v", err)
			}
			var tuples int
			for _, p := range pubs {
				if p.Doc != nil {
					tuples += len(p.Doc.Tuples)
				}
			}
			if tuples == 0 {
				tuples = 1 // the synthesized state tuple
			}
			if level != Offline && !hasOpen(doc.Tuples) {
				tuples++
			}
			if len(doc.Tuples) != tuples {
				t.Errorf("%d tuples, want %d", len(doc.Tuples), tuples)
			}
			if len(doc.Persons) != 1 || doc.Persons[0].ID != personID {
				t.Errorf("persons: %+v", doc.Persons)
			}
		})
	}
}

func hasOpen(ts []Tuple) bool {
	for _, t := range ts {
		if t.Basic == "open" {
			return true
		}
	}
	return false
}

func TestAggregateKeepsWinnerNoteAndEntity(t *testing.T) {
	a, err := Parse([]byte(`<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:alice@example.com">
		<tuple id="t"><status><basic>open</basic></status><note>At the Lisbon office</note></tuple></presence>`))
	if err != nil {
		t.Fatal(err)
	}
	b := pub(t, "t", Away, 9, false)
	b.Doc.Entity = "sip:alice@example.com"
	level, doc := Aggregate([]Publication{b, {Doc: a}})
	if level != Online || doc.Entity != "pres:alice@example.com" || doc.Notes[0] != "At the Lisbon office" {
		t.Errorf("level %s entity %q notes %q", level, doc.Entity, doc.Notes)
	}
	if doc.Tuples[0].ID != "t" || doc.Tuples[1].ID != "t-2" {
		t.Errorf("tuple ids not made unique: %q %q", doc.Tuples[0].ID, doc.Tuples[1].ID)
	}
	// The document renders the same through Compose, as the presence agent does.
	if got, want := string(Compose(doc.Entity, level, doc.Tuples, doc.Notes[0])), string(doc.Bytes()); got != want {
		t.Errorf("Compose and Bytes differ:\n%s\n%s", got, want)
	}
}

func TestAggregateTieGoesToNewest(t *testing.T) {
	a := pub(t, "a", Busy, 1, false)
	b := pub(t, "b", Busy, 2, false)
	a.Doc.Persons[0].Notes = []string{"on a call with a customer"}
	b.Doc.Persons[0].Notes = []string{"in the lab"}
	for _, order := range [][]Publication{{a, b}, {b, a}} {
		_, doc := Aggregate(order)
		if doc.Notes[0] != "in the lab" {
			t.Errorf("note %q, want the newest publication's", doc.Notes[0])
		}
	}
}

func TestOverride(t *testing.T) {
	cases := []struct {
		level                  Availability
		calendar, unregistered bool
		want                   Availability
	}{
		{Online, false, false, Online},
		{Online, true, false, InAMeeting},
		{Busy, true, false, InAMeeting},
		{Away, true, false, InAMeeting},
		{BeRightBack, true, false, InAMeeting},
		{InAMeeting, true, false, InAMeeting},
		{DoNotDisturb, true, false, DoNotDisturb},
		{Offline, true, false, Offline},
		{DoNotDisturb, false, true, Offline},
		{Online, true, true, Offline},
		{Away, false, false, Away},
	}
	for _, c := range cases {
		if got := Override(c.level, c.calendar, c.unregistered); got != c.want {
			t.Errorf("Override(%s, calendar=%v, unregistered=%v) = %s, want %s", c.level, c.calendar, c.unregistered, got, c.want)
		}
	}
}
