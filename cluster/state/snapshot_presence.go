package state

import "strings"

// snapshotPresence copies the presence tables, static routes and the
// application chain into img
// (read lock held).
func (s *State) snapshotPresence(img *snapshot) {
	img.Publications = make(map[string][]Publication, len(s.pubs))
	for aor, list := range s.pubs {
		for _, p := range list {
			img.Publications[aor] = append(img.Publications[aor], *p)
		}
	}
	img.Calendar = make(map[string][]CalendarEntry, len(s.calendar))
	for aor, es := range s.calendar {
		img.Calendar[aor] = append([]CalendarEntry(nil), es...)
	}
	for _, sub := range s.subs {
		img.Subscriptions = append(img.Subscriptions, *sub)
	}
	for _, r := range s.routes {
		img.Routes = append(img.Routes, *r)
	}
	for _, a := range s.apps {
		img.Apps = append(img.Apps, *a)
	}
	for key, d := range s.xcap {
		parts := strings.SplitN(key, "\x00", 3)
		e := xcapEntry{AUID: parts[0], XUI: parts[1], Doc: parts[2], XcapDoc: *d}
		owner := OwnerOf(e.XUI)
		switch e.AUID {
		case AUIDResourceLists:
			e.Contacts = append([]Contact(nil), s.contacts[owner]...)
		case AUIDPresRules:
			if r, ok := s.rules[owner]; ok {
				e.Rules = &r
			}
		}
		img.Xcap = append(img.Xcap, e)
	}
}

// restorePresence rebuilds the presence tables and indexes (write lock
// held, tables reset).
func (s *State) restorePresence(img *snapshot) {
	for aor, list := range img.Publications {
		for i := range list {
			p := list[i]
			s.pubs[aor] = append(s.pubs[aor], &p)
		}
	}
	for aor, es := range img.Calendar {
		s.calendar[aor] = es
	}
	for i := range img.Routes {
		r := img.Routes[i]
		s.routes[r.ID] = &r
	}
	for i := range img.Apps {
		a := img.Apps[i]
		s.apps[a.Name] = &a
	}
	for i := range img.Subscriptions {
		sub := img.Subscriptions[i]
		s.subs[sub.ID] = &sub
		if s.subsByTarget[sub.Target] == nil {
			s.subsByTarget[sub.Target] = make(map[string]*Subscription)
		}
		s.subsByTarget[sub.Target][sub.ID] = &sub
	}
	for _, e := range img.Xcap {
		d := e.XcapDoc
		s.xcap[XcapKey(e.AUID, e.XUI, e.Doc)] = &d
		s.indexDoc(e.AUID, OwnerOf(e.XUI), e.Contacts, e.Rules)
	}
}
