package presence

import (
	"context"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/xcap"
)

// The operator's view (admin API): contact lists and rules are stored as
// the same XCAP documents clients edit, so both see one truth.

// xcapDoc is the document name clients use for both usages.
const xcapDoc = "index"

// LevelOf returns a user's composed level by name and PIDF document.
func (a *Agent) LevelOf(aor string) (string, []byte) {
	level, doc := a.Level(aor)
	return level.String(), doc
}

// Contacts returns a user's contact list.
func (a *Agent) Contacts(aor string) []state.Contact { return a.st.Contacts(aor) }

// SetContacts replaces a user's contact list (resource-lists document).
func (a *Agent) SetContacts(ctx context.Context, aor string, cs []state.Contact) error {
	entries := make([]xcap.Entry, len(cs))
	for i, c := range cs {
		entries[i] = xcap.Entry{URI: c.URI, DisplayName: c.Name, Groups: c.Groups}
	}
	_, _, err := NewXcapStore(a.st, a.w).Put(ctx, state.AUIDResourceLists, "sip:"+aor, xcapDoc, xcap.ComposeResourceLists(entries), "", "")
	return err
}

// Rules returns a user's presence authorization rules.
func (a *Agent) Rules(aor string) state.PresRules {
	r, _ := a.st.Rules(aor)
	return r
}

// SetRules replaces a user's allow/block lists (pres-rules document).
func (a *Agent) SetRules(ctx context.Context, aor string, r state.PresRules) error {
	body := xcap.ComposePresRules(xcap.Rules{Allow: r.Allow, Block: r.Block, Polite: r.Polite})
	_, _, err := NewXcapStore(a.st, a.w).Put(ctx, state.AUIDPresRules, "sip:"+aor, xcapDoc, body, "", "")
	return err
}

// Calendar returns a user's calendar entries.
func (a *Agent) Calendar(aor string) []state.CalendarEntry { return a.st.Calendar(aor) }

// SetCalendar replaces a user's calendar (our stand-in for Exchange).
func (a *Agent) SetCalendar(ctx context.Context, aor string, es []state.CalendarEntry) error {
	_, err := a.w.Write(ctx, state.CmdCalendarSet, state.CalendarSet{AOR: aor, Entries: es})
	return err
}

// aorOfURI maps a contact URI to an AOR ("" for non-SIP URIs).
func aorOfURI(s string) string {
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil || (u.Scheme != "sip" && u.Scheme != "sips") || u.User == "" {
		return ""
	}
	return u.User + "@" + strings.ToLower(u.Host)
}
