package state

import "fmt"

// Presence command types.
const (
	CmdPresencePublish CommandType = 30
	CmdCalendarSet     CommandType = 31
)

func init() {
	registerCommand(CmdPresencePublish, "presence.publish", applyPresencePublish, ignorable)
	registerCommand(CmdCalendarSet, "calendar.set", applyCalendarSet, ignorable)
}

// maxPublications bounds the publications kept per user; the oldest goes.
const maxPublications = 16

// Publication is one PUBLISH'ed presence document (RFC 3903).
type Publication struct {
	ETag    string `json:"etag"`
	Body    []byte `json:"body"` // application/pidf+xml as published
	Expires int64  `json:"expires"`
	Updated int64  `json:"updated"`
	Manual  bool   `json:"manual,omitempty"` // set by the user, beats automatic states
	Node    string `json:"node"`
}

// PresencePublish creates (PrevETag empty), refreshes (Body nil),
// modifies or removes a publication. ETag is the new entity tag, chosen by
// the writer.
type PresencePublish struct {
	AOR      string `json:"aor"`
	ETag     string `json:"etag"`
	PrevETag string `json:"prev_etag,omitempty"`
	Body     []byte `json:"body,omitempty"`
	Expires  int64  `json:"expires"`
	Manual   bool   `json:"manual,omitempty"`
	Remove   bool   `json:"remove,omitempty"`
}

// CalendarEntry makes its user in-a-meeting from From to To (unix s).
type CalendarEntry struct {
	From    int64  `json:"from"`
	To      int64  `json:"to"`
	Subject string `json:"subject,omitempty"`
}

// CalendarSet replaces a user's calendar entries.
type CalendarSet struct {
	AOR     string          `json:"aor"`
	Entries []CalendarEntry `json:"entries"`
}

func applyPresencePublish(s *State, c *Command) any {
	body, err := decodeBody[PresencePublish](c)
	if err != nil {
		return err
	}
	list := s.pubs[body.AOR]
	idx := -1
	if body.PrevETag != "" {
		for i, p := range list {
			if p.ETag == body.PrevETag {
				idx = i
			}
		}
		if idx < 0 {
			return fmt.Errorf("%w: publication %s of %s", ErrNotFound, body.PrevETag, body.AOR)
		}
	}
	switch {
	case body.Remove && idx >= 0:
		list = append(list[:idx:idx], list[idx+1:]...)
	case idx >= 0:
		p := *list[idx]
		p.ETag, p.Expires, p.Updated, p.Node = body.ETag, body.Expires, c.Time, c.Node
		if body.Body != nil {
			p.Body, p.Manual = body.Body, body.Manual
		}
		list[idx] = &p
	case body.Remove:
	default:
		if body.ETag == "" || body.Body == nil {
			return fmt.Errorf("%w: publication without etag or body", ErrInvalid)
		}
		list = append(list, &Publication{ETag: body.ETag, Body: body.Body, Expires: body.Expires, Updated: c.Time, Manual: body.Manual, Node: c.Node})
		if len(list) > maxPublications {
			list = list[1:]
		}
	}
	if len(list) == 0 {
		delete(s.pubs, body.AOR)
	} else {
		s.pubs[body.AOR] = list
	}
	s.changed(PresenceChanged, body.AOR)
	return nil
}

func applyCalendarSet(s *State, c *Command) any {
	body, err := decodeBody[CalendarSet](c)
	if err != nil {
		return err
	}
	for _, e := range body.Entries {
		if e.To <= e.From {
			return fmt.Errorf("%w: calendar entry ends before it starts", ErrInvalid)
		}
	}
	if len(body.Entries) == 0 {
		delete(s.calendar, body.AOR)
	} else {
		s.calendar[body.AOR] = append([]CalendarEntry(nil), body.Entries...)
	}
	s.changed(PresenceChanged, body.AOR)
	return nil
}

// Publications returns copies of a user's publications.
func (s *State) Publications(aor string) []Publication {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Publication, len(s.pubs[aor]))
	for i, p := range s.pubs[aor] {
		out[i] = *p
	}
	return out
}

// Calendar returns a user's calendar entries.
func (s *State) Calendar(aor string) []CalendarEntry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]CalendarEntry(nil), s.calendar[aor]...)
}

// PublishersOn returns the users with a publication accepted by node.
func (s *State) PublishersOn(node string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for aor, list := range s.pubs {
		for _, p := range list {
			if p.Node == node {
				out = append(out, aor)
				break
			}
		}
	}
	return out
}

// CalendarUsers returns the users with calendar entries.
func (s *State) CalendarUsers() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.calendar))
	for aor := range s.calendar {
		out = append(out, aor)
	}
	return out
}
