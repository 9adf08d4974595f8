package xmpp

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/parley-rtc/parley/core/presdoc"
)

// XMPP <show/> values (RFC 6121 section 4.7.2.1); ShowNone is the absent
// element (plain available).
const (
	ShowNone = ""
	ShowChat = "chat"
	ShowAway = "away"
	ShowXA   = "xa"
	ShowDND  = "dnd"
)

// nsClient is the namespace of the <show/> RFC 8048 lets a PIDF document
// carry, so that an XMPP show the seven levels cannot tell apart (chat,
// xa) survives a trip through SIP.
const nsClient = "jabber:client"

// Presence is one XMPP presence of one resource, as the gateway maps it.
type Presence struct {
	Resource    string // the sender's resourcepart ("" for a bare JID)
	Unavailable bool   // type='unavailable'
	Show        string // ShowNone, ShowChat, ShowAway, ShowXA or ShowDND
	Status      string // <status/>, the human text
	Priority    int8   // <priority/>, -128 to 127
	Updated     time.Time
}

// levelShows is the <show/> of each level (README.md, presence table).
var levelShows = map[presdoc.Availability]string{
	presdoc.Online:       ShowNone,
	presdoc.Busy:         ShowDND,
	presdoc.InAMeeting:   ShowDND,
	presdoc.DoNotDisturb: ShowDND,
	presdoc.BeRightBack:  ShowAway,
	presdoc.Away:         ShowAway,
}

// statusNamesLevel reports whether XMPP's status for level starts with the
// level's own text: the levels that share a <show/> with another.
func statusNamesLevel(level presdoc.Availability) bool {
	switch level {
	case presdoc.Busy, presdoc.InAMeeting, presdoc.DoNotDisturb, presdoc.BeRightBack:
		return true
	}
	return false
}

// statusSep joins the level's text and the user's own note in <status/>.
const statusSep = ": "

// PresenceFromLevel maps one of the seven levels and the user's note to
// XMPP: the level's <show/>, and for busy, in-a-meeting, do-not-disturb
// and be-right-back the level's text first in <status/> ("In a meeting",
// or "In a meeting: budget review"), so LevelOf reads the exact level back.
func PresenceFromLevel(level presdoc.Availability, note string) Presence {
	note = strings.TrimSpace(note)
	if level == presdoc.Offline {
		return Presence{Unavailable: true, Status: ownNote(note, level)}
	}
	p := Presence{Show: levelShows[level], Status: ownNote(note, level)}
	if statusNamesLevel(level) {
		if p.Status == "" {
			p.Status = level.Note()
		} else {
			p.Status = level.Note() + statusSep + p.Status
		}
	}
	return p
}

// ownNote is the user's note unless it only repeats a level's name.
func ownNote(note string, level presdoc.Availability) string {
	if _, ok := levelNamed(note); ok {
		return ""
	}
	return note
}

// levelNamed reads a text that is exactly a level's note or name ("In a
// meeting", "in-a-meeting"), in any case.
func levelNamed(s string) (presdoc.Availability, bool) {
	s = strings.TrimSpace(s)
	for _, l := range presdoc.Levels {
		if strings.EqualFold(s, l.Note()) || strings.EqualFold(s, l.String()) {
			return l, true
		}
	}
	return presdoc.Offline, false
}

// LevelOf maps an XMPP presence to a level and the user's own note:
// unavailable -> offline; no show or chat -> online; dnd -> the level its
// status names (busy, in-a-meeting, do-not-disturb), else busy; away ->
// be-right-back when its status says so, else away; xa -> away.
func LevelOf(p Presence) (presdoc.Availability, string) {
	status := strings.TrimSpace(p.Status)
	if p.Unavailable {
		return presdoc.Offline, status
	}
	head, rest, _ := strings.Cut(status, statusSep)
	named, ok := levelNamed(head)
	own := status
	if ok {
		own = strings.TrimSpace(rest)
	}
	switch p.Show {
	case ShowDND:
		if ok && levelShows[named] == ShowDND {
			return named, own
		}
		return presdoc.Busy, status
	case ShowAway:
		if ok && named == presdoc.BeRightBack {
			return named, own
		}
		return presdoc.Away, status
	case ShowXA:
		return presdoc.Away, status
	}
	return presdoc.Online, status
}

// PIDFFromPresences writes the PIDF document (RFC 8048 section 4) for the
// presences of one XMPP user: entity is its SIP address, pres the last
// presence of each resource. Each resource is one tuple (closed when
// unavailable); the person element carries the level the resources
// aggregate to, as core/presdoc aggregates our own users' publications,
// and the winning resource's <show/> is embedded for a lossless return.
// No presence at all is an offline document.
func PIDFFromPresences(entity string, pres []Presence) []byte {
	pubs := make([]presdoc.Publication, 0, len(pres))
	for _, p := range pres {
		level, note := LevelOf(p)
		tuple := presdoc.Tuple{ID: "r-" + p.Resource, Basic: "open", Contact: entity}
		if p.Resource != "" {
			tuple.Contact += ";gr=" + encodeParam(p.Resource)
		}
		if p.Priority > 0 {
			tuple.Priority = float64(p.Priority) / 127
		}
		if level == presdoc.Offline {
			tuple.Basic = "closed"
		}
		tuple.Timestamp = p.Updated
		doc, _ := presdoc.Parse(presdoc.Compose(entity, level, []presdoc.Tuple{tuple}, note))
		pubs = append(pubs, presdoc.Publication{Doc: doc, Updated: p.Updated})
	}
	level, doc := presdoc.Aggregate(pubs)
	show := ""
	for i, p := range pres {
		if l, _ := LevelOf(p); l == level && pubs[i].Doc != nil && !p.Unavailable {
			show = p.Show
			break
		}
	}
	out := doc.Bytes()
	if show == "" || level == presdoc.Offline {
		return out
	}
	i := bytes.LastIndex(out, []byte("</presence>"))
	if i < 0 {
		return out
	}
	embed := `  <show xmlns="` + nsClient + `">` + show + "</show>\n"
	return append(out[:i:i], append([]byte(embed), out[i:]...)...)
}

// PresenceFromPIDF maps a PIDF body from our side to the XMPP presence
// of the user: the document's level (presdoc's rules) and first note
// through PresenceFromLevel, except that an embedded <show/> (RFC 8048)
// that agrees with the level is kept as it is (chat, xa).
func PresenceFromPIDF(body []byte) (Presence, error) {
	doc, err := presdoc.Parse(body)
	if err != nil {
		return Presence{}, fmt.Errorf("xmpp: presence document: %w", err)
	}
	level := doc.Availability()
	p := PresenceFromLevel(level, firstNote(doc))
	if show, ok := embeddedShow(body); ok && !p.Unavailable {
		if l, _ := LevelOf(Presence{Show: show, Status: p.Status}); l == level {
			p.Show = show
		}
	}
	return p, nil
}

// firstNote is the note a document shows first: its person's, then its
// own, then its first open tuple's.
func firstNote(d *presdoc.Document) string {
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

// embeddedShow finds a {jabber:client}show child of the PIDF root (the
// document already passed presdoc.Parse's limits).
func embeddedShow(body []byte) (string, bool) {
	d := xml.NewDecoder(bytes.NewReader(body))
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF || err != nil {
			return "", false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && t.Name.Space == nsClient && t.Name.Local == "show" {
				var s string
				if d.DecodeElement(&s, &t) != nil {
					return "", false
				}
				switch s = strings.TrimSpace(s); s {
				case ShowChat, ShowAway, ShowXA, ShowDND:
					return s, true
				}
				return "", false
			}
		case xml.EndElement:
			depth--
		}
	}
}
