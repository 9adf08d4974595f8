package presdoc

// Availability reduces one publication to a level. It is total: every
// document, even an empty one, lands on exactly one level.
//
//  1. Reachability. The publication is Offline unless a tuple's basic
//     status is open. A document without tuples (RFC 4479 allows a bare
//     person) is reachable when a person carries an activity or user input.
//  2. Signals. Every person (activities, user input, notes), every open
//     tuple (activities, notes) and every top-level note may name a level:
//     the tables in docs/presence.md. User input "idle" names Away when
//     a person says so, or when every open tuple reporting user input
//     (directly or through its dm:device) says so.
//  3. The strongest signal wins, in the order offline > do-not-disturb >
//     in-a-meeting > busy > be-right-back > away; without any, Online.
func (d *Document) Availability() Availability {
	if d == nil || !d.reachable() {
		return Offline
	}
	best := Online
	consider := func(a Availability, ok bool) {
		if ok && docRank[a] > docRank[best] {
			best = a
		}
	}
	notes := func(list []string) {
		for _, n := range list {
			consider(textLevel(n))
		}
	}
	for _, p := range d.Persons {
		for _, act := range p.Activities {
			consider(activityLevel(act))
		}
		consider(Away, p.UserInput == "idle")
		notes(p.Notes)
	}
	reporting, idle := 0, 0
	for _, t := range d.Tuples {
		if t.Basic != "open" {
			continue
		}
		for _, act := range t.Activities {
			consider(activityLevel(act))
		}
		notes(t.Notes)
		if t.UserInput != "" {
			reporting++
			if t.UserInput == "idle" {
				idle++
			}
		}
	}
	consider(Away, reporting > 0 && idle == reporting)
	notes(d.Notes)
	return best
}

// reachable is rule 1 of Availability.
func (d *Document) reachable() bool {
	for _, t := range d.Tuples {
		if t.Basic == "open" {
			return true
		}
	}
	if len(d.Tuples) > 0 {
		return false
	}
	for _, p := range d.Persons {
		if len(p.Activities) > 0 || p.UserInput != "" {
			return true
		}
	}
	return false
}
