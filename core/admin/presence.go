package admin

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/parley-rtc/parley/api"
	"github.com/parley-rtc/parley/cluster/state"
)

// Presence is what the API needs of the presence agent: users' composed
// state, and the contact lists, authorization rules and calendars it
// keeps in the replicated state (as XCAP documents where clients see
// them).
type Presence interface {
	LevelOf(aor string) (level string, pidf []byte)
	Contacts(aor string) []state.Contact
	SetContacts(ctx context.Context, aor string, cs []state.Contact) error
	Rules(aor string) state.PresRules
	SetRules(ctx context.Context, aor string, r state.PresRules) error
	Calendar(aor string) []state.CalendarEntry
	SetCalendar(ctx context.Context, aor string, es []state.CalendarEntry) error
}

func (s *server) presenceRoutes() {
	if s.cfg.Presence == nil {
		return
	}
	s.mux.Handle("GET /v1/users/{name}/presence", s.h(s.getPresence))
	s.mux.Handle("GET /v1/users/{name}/contacts", s.h(s.getContacts))
	s.mux.Handle("PUT /v1/users/{name}/contacts", s.h(s.putContacts))
	s.mux.Handle("GET /v1/users/{name}/rules", s.h(s.getRules))
	s.mux.Handle("PUT /v1/users/{name}/rules", s.h(s.putRules))
	s.mux.Handle("GET /v1/users/{name}/calendar", s.h(s.getCalendar))
	s.mux.Handle("PUT /v1/users/{name}/calendar", s.h(s.putCalendar))
}

// presenceUser resolves {name} to an existing user's AOR.
func (s *server) presenceUser(r *http.Request) (string, error) {
	name := r.PathValue("name")
	u, ok := s.cfg.Directory.Get(name)
	if !ok {
		return "", &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("user %q not found", name)}
	}
	return u.AOR(), nil
}

func (s *server) getPresence(w http.ResponseWriter, r *http.Request) error {
	aor, err := s.presenceUser(r)
	if err != nil {
		return err
	}
	level, doc := s.cfg.Presence.LevelOf(aor)
	writeJSON(w, http.StatusOK, api.Presence{AOR: aor, Level: level, PIDF: string(doc)})
	return nil
}

func (s *server) getContacts(w http.ResponseWriter, r *http.Request) error {
	aor, err := s.presenceUser(r)
	if err != nil {
		return err
	}
	out := []api.Contact{}
	for _, c := range s.cfg.Presence.Contacts(aor) {
		out = append(out, api.Contact{URI: c.URI, Name: c.Name, Groups: c.Groups})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) putContacts(w http.ResponseWriter, r *http.Request) error {
	aor, err := s.presenceUser(r)
	if err != nil {
		return err
	}
	var in []api.Contact
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	cs := make([]state.Contact, 0, len(in))
	for i, c := range in {
		if c.URI == "" {
			return badRequest("contacts[%d].uri is required", i)
		}
		cs = append(cs, state.Contact{URI: c.URI, Name: c.Name, Groups: c.Groups})
	}
	if err := s.cfg.Presence.SetContacts(r.Context(), aor, cs); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) getRules(w http.ResponseWriter, r *http.Request) error {
	aor, err := s.presenceUser(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.PresRules(s.cfg.Presence.Rules(aor)))
	return nil
}

func (s *server) putRules(w http.ResponseWriter, r *http.Request) error {
	aor, err := s.presenceUser(r)
	if err != nil {
		return err
	}
	var in api.PresRules
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.cfg.Presence.SetRules(r.Context(), aor, state.PresRules(in)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) getCalendar(w http.ResponseWriter, r *http.Request) error {
	aor, err := s.presenceUser(r)
	if err != nil {
		return err
	}
	out := []api.CalendarEntry{}
	for _, e := range s.cfg.Presence.Calendar(aor) {
		out = append(out, api.CalendarEntry{From: time.Unix(e.From, 0).UTC(), To: time.Unix(e.To, 0).UTC(), Subject: e.Subject})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) putCalendar(w http.ResponseWriter, r *http.Request) error {
	aor, err := s.presenceUser(r)
	if err != nil {
		return err
	}
	var in []api.CalendarEntry
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	es := make([]state.CalendarEntry, 0, len(in))
	for i, e := range in {
		if !e.To.After(e.From) {
			return badRequest("calendar[%d]: to must be after from", i)
		}
		es = append(es, state.CalendarEntry{From: e.From.Unix(), To: e.To.Unix(), Subject: e.Subject})
	}
	if err := s.cfg.Presence.SetCalendar(r.Context(), aor, es); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
