package xmpp

import (
	"strings"
	"testing"
	"time"

	"github.com/parley-rtc/parley/core/presdoc"
)

// TestLevelToXMPP is the SIP -> XMPP half of the presence table.
func TestLevelToXMPP(t *testing.T) {
	for _, tc := range []struct {
		level       presdoc.Availability
		note        string
		unavailable bool
		show        string
		status      string
	}{
		{presdoc.Online, "", false, "", ""},
		{presdoc.Online, "Working from home", false, "", "Working from home"},
		{presdoc.Online, "Online", false, "", ""},
		{presdoc.Busy, "", false, "dnd", "Busy"},
		{presdoc.Busy, "on a call with Bob", false, "dnd", "Busy: on a call with Bob"},
		{presdoc.InAMeeting, "", false, "dnd", "In a meeting"},
		{presdoc.InAMeeting, "budget review", false, "dnd", "In a meeting: budget review"},
		{presdoc.DoNotDisturb, "", false, "dnd", "Do not disturb"},
		{presdoc.DoNotDisturb, "Do not disturb", false, "dnd", "Do not disturb"},
		{presdoc.BeRightBack, "", false, "away", "Be right back"},
		{presdoc.Away, "", false, "away", ""},
		{presdoc.Away, "lunch", false, "away", "lunch"},
		{presdoc.Offline, "", true, "", ""},
		{presdoc.Offline, "gone fishing", true, "", "gone fishing"},
	} {
		p := PresenceFromLevel(tc.level, tc.note)
		if p.Unavailable != tc.unavailable || p.Show != tc.show || p.Status != tc.status {
			t.Errorf("%s %q -> %+v, want unavailable=%v show=%q status=%q", tc.level, tc.note, p, tc.unavailable, tc.show, tc.status)
		}
	}
}

// TestXMPPToLevel is the XMPP -> SIP half.
func TestXMPPToLevel(t *testing.T) {
	for _, tc := range []struct {
		p     Presence
		level presdoc.Availability
		note  string
	}{
		{Presence{}, presdoc.Online, ""},
		{Presence{Show: "chat", Status: "talk to me"}, presdoc.Online, "talk to me"},
		{Presence{Show: "dnd"}, presdoc.Busy, ""},
		{Presence{Show: "dnd", Status: "writing"}, presdoc.Busy, "writing"},
		{Presence{Show: "dnd", Status: "Busy"}, presdoc.Busy, ""},
		{Presence{Show: "dnd", Status: "In a meeting"}, presdoc.InAMeeting, ""},
		{Presence{Show: "dnd", Status: "in a meeting: budget review"}, presdoc.InAMeeting, "budget review"},
		{Presence{Show: "dnd", Status: "Do not disturb"}, presdoc.DoNotDisturb, ""},
		{Presence{Show: "dnd", Status: "Be right back"}, presdoc.Busy, "Be right back"}, // dnd never reads as away
		{Presence{Show: "away"}, presdoc.Away, ""},
		{Presence{Show: "away", Status: "Be right back"}, presdoc.BeRightBack, ""},
		{Presence{Show: "away", Status: "be-right-back: coffee"}, presdoc.BeRightBack, "coffee"},
		{Presence{Show: "away", Status: "In a meeting"}, presdoc.Away, "In a meeting"},
		{Presence{Show: "xa"}, presdoc.Away, ""},
		{Presence{Show: "xa", Status: "on holiday"}, presdoc.Away, "on holiday"},
		{Presence{Unavailable: true}, presdoc.Offline, ""},
		{Presence{Unavailable: true, Show: "dnd", Status: "bye"}, presdoc.Offline, "bye"},
		{Presence{Show: "bogus"}, presdoc.Online, ""},
	} {
		level, note := LevelOf(tc.p)
		if level != tc.level || note != tc.note {
			t.Errorf("%+v -> %s %q, want %s %q", tc.p, level, note, tc.level, tc.note)
		}
	}
}

// TestSIPXMPPSIP: every level, with and without a note, survives SIP ->
// XMPP -> SIP, through the PIDF documents both ways.
func TestSIPXMPPSIP(t *testing.T) {
	for _, level := range presdoc.Levels {
		for _, note := range []string{"", "budget review"} {
			body := presdoc.Compose("pres:alice@example.com", level, nil, note)
			p, err := PresenceFromPIDF(body)
			if err != nil {
				t.Fatal(err)
			}
			back := PIDFFromPresences("sip:alice@example.com", []Presence{p})
			doc, err := presdoc.Parse(back)
			if err != nil {
				t.Fatalf("%s: %v\n%s", level, err, back)
			}
			if got := doc.Availability(); got != level {
				t.Errorf("%s %q -> %+v -> %s\n%s", level, note, p, got, back)
			}
			if _, gotNote := LevelOf(p); gotNote != note {
				t.Errorf("%s: note %q came back as %q", level, note, gotNote)
			}
		}
	}
}

// TestXMPPSIPXMPP: every show survives XMPP -> SIP -> XMPP, chat and xa
// through the embedded <show/>.
func TestXMPPSIPXMPP(t *testing.T) {
	for _, in := range []Presence{
		{}, {Show: "chat"}, {Show: "away"}, {Show: "xa"}, {Show: "dnd"},
		{Show: "dnd", Status: "In a meeting"}, {Show: "away", Status: "Be right back: coffee"},
		{Show: "xa", Status: "on holiday"}, {Unavailable: true},
	} {
		body := PIDFFromPresences("sip:juliet@xmpp.example.net", []Presence{in})
		out, err := PresenceFromPIDF(body)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus := in.Status
		if in.Show == "dnd" && in.Status == "" {
			wantStatus = "Busy" // dnd alone reads as busy, which XMPP then names
		}
		if out.Show != in.Show || out.Unavailable != in.Unavailable || out.Status != wantStatus {
			t.Errorf("%+v -> %+v\n%s", in, out, body)
		}
	}
}

// TestResources: one tuple per resource; the level aggregates as for our
// own users (an explicit state beats passive availability).
func TestResources(t *testing.T) {
	now := time.Now()
	body := PIDFFromPresences("sip:juliet@xmpp.example.net", []Presence{
		{Resource: "balcony", Show: "away", Priority: 5, Updated: now},
		{Resource: "phone", Show: "dnd", Status: "In a meeting", Priority: 1, Updated: now},
		{Resource: "old", Unavailable: true, Updated: now},
	})
	doc, err := presdoc.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Tuples) != 3 {
		t.Fatalf("%d tuples, want 3\n%s", len(doc.Tuples), body)
	}
	basics := map[string]string{}
	for _, tu := range doc.Tuples {
		basics[tu.Contact] = tu.Basic
	}
	for contact, basic := range map[string]string{
		"sip:juliet@xmpp.example.net;gr=balcony": "open",
		"sip:juliet@xmpp.example.net;gr=phone":   "open",
		"sip:juliet@xmpp.example.net;gr=old":     "closed",
	} {
		if basics[contact] != basic {
			t.Errorf("tuple %s: %q, want %q\n%s", contact, basics[contact], basic, body)
		}
	}
	if got := doc.Availability(); got != presdoc.InAMeeting {
		t.Errorf("level %s, want in-a-meeting", got)
	}
	if !strings.Contains(string(body), `<show xmlns="jabber:client">dnd</show>`) {
		t.Errorf("no embedded show\n%s", body)
	}
	// Nobody online: offline, and no show.
	off := PIDFFromPresences("sip:juliet@xmpp.example.net", nil)
	if doc, _ := presdoc.Parse(off); doc.Availability() != presdoc.Offline || strings.Contains(string(off), "<show") {
		t.Errorf("empty: %s", off)
	}
}

func TestPresenceFromPIDFBad(t *testing.T) {
	if _, err := PresenceFromPIDF([]byte("<nope/>")); err == nil {
		t.Fatal("want an error")
	}
	// A show that disagrees with the level is ignored.
	body := presdoc.Compose("pres:a@example.com", presdoc.Online, nil, "")
	body = []byte(strings.Replace(string(body), "</presence>", `<show xmlns="jabber:client">dnd</show></presence>`, 1))
	p, err := PresenceFromPIDF(body)
	if err != nil || p.Show != "" {
		t.Fatalf("%+v %v", p, err)
	}
}
