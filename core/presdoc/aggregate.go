package presdoc

import "time"

// Publication is one live PUBLISH of a user (RFC 3903), parsed.
type Publication struct {
	ETag    string
	Doc     *Document
	Updated time.Time
	Manual  bool // set by the user (a client's status menu, the admin API)
}

// Aggregate joins the publications of one user into one level and the
// document watchers get (the same one Compose writes).
//
//   - No publication (or none with a document): Offline.
//   - A manual publication beats every automatic one: the most recently
//     updated manual publication decides, whatever its level ("appear
//     offline" included).
//   - Otherwise each publication's level (Document.Availability) competes
//     in the order do-not-disturb > in-a-meeting > busy > online >
//     be-right-back > away > offline: a state someone set on purpose beats
//     passive availability, and among passive states the most available
//     endpoint speaks for the user (at the desk on one device and idle on
//     another is online). Ties go to the most recently updated.
//
// The document holds the tuples of every publication in the given order
// (ids made unique), the deciding publication's entity and first note, and
// one person element carrying the level.
func Aggregate(pubs []Publication) (Availability, Document) {
	var tuples []Tuple
	entity := ""
	win, winLevel, manual := -1, Offline, false
	for i, p := range pubs {
		if p.Doc == nil {
			continue
		}
		tuples = append(tuples, p.Doc.Tuples...)
		if entity == "" {
			entity = p.Doc.Entity
		}
		level := p.Doc.Availability()
		switch {
		case win < 0,
			p.Manual && !manual,
			p.Manual == manual && manual && !p.Updated.Before(pubs[win].Updated),
			p.Manual == manual && !manual && beats(level, p.Updated, winLevel, pubs[win].Updated):
			win, winLevel, manual = i, level, p.Manual
		}
	}
	if win < 0 {
		return Offline, stateDocument(entity, Offline, nil, "")
	}
	if e := pubs[win].Doc.Entity; e != "" {
		entity = e
	}
	return winLevel, stateDocument(entity, winLevel, tuples, firstNote(pubs[win].Doc))
}

// beats reports whether level a updated at ta outranks level b updated at tb.
func beats(a Availability, ta time.Time, b Availability, tb time.Time) bool {
	if aggRank[a] != aggRank[b] {
		return aggRank[a] > aggRank[b]
	}
	return !ta.Before(tb)
}

// firstNote is the note a publication shows first: its person's, then
// its top-level one, then its first open tuple's.
func firstNote(d *Document) string {
	for _, p := range d.Persons {
		if len(p.Notes) > 0 {
			return p.Notes[0]
		}
	}
	if len(d.Notes) > 0 {
		return d.Notes[0]
	}
	for _, t := range d.Tuples {
		if t.Basic == "open" && len(t.Notes) > 0 {
			return t.Notes[0]
		}
	}
	return ""
}

// Override applies what the server knows beyond the publications, in this
// order: with every endpoint unregistered the user is Offline; with a
// calendar entry now the user is InAMeeting, unless DoNotDisturb (a
// stronger wish) or Offline (a user who appears offline stays hidden).
func Override(level Availability, calendarBusy bool, allUnregistered bool) Availability {
	switch {
	case allUnregistered:
		return Offline
	case calendarBusy && level != DoNotDisturb && level != Offline:
		return InAMeeting
	}
	return level
}
