package presdoc

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestAvailabilityNames(t *testing.T) {
	want := []string{"offline", "online", "busy", "do-not-disturb", "be-right-back", "away", "in-a-meeting"}
	if len(Levels) != len(want) {
		t.Fatalf("%d levels", len(Levels))
	}
	for i, a := range Levels {
		if a != Availability(i) || a.String() != want[i] {
			t.Errorf("level %d: %v %q", i, int(a), a.String())
		}
		for _, s := range []string{want[i], " " + want[i] + "\t", strings.ToUpper(want[i])} {
			got, err := ParseAvailability(s)
			if err != nil || got != a {
				t.Errorf("ParseAvailability(%q) = %v, %v", s, got, err)
			}
		}
		if a.Note() == "" {
			t.Errorf("%s has no note", a)
		}
		if l, ok := textLevel(a.Note()); !ok || l != a {
			t.Errorf("note %q of %s reads as %s", a.Note(), a, l)
		}
	}
	for _, bad := range []string{"", "dnd", "available", "do not disturb", "offline2"} {
		if _, err := ParseAvailability(bad); !errors.Is(err, ErrUnknownAvailability) {
			t.Errorf("ParseAvailability(%q): %v", bad, err)
		}
	}
	if s := Availability(9).String(); s != "availability(9)" {
		t.Errorf("out of range: %q", s)
	}
}

func TestAvailabilityJSON(t *testing.T) {
	b, err := json.Marshal(map[string]Availability{"a": DoNotDisturb})
	if err != nil || string(b) != `{"a":"do-not-disturb"}` {
		t.Fatalf("%s %v", b, err)
	}
	var back map[string]Availability
	if err := json.Unmarshal(b, &back); err != nil || back["a"] != DoNotDisturb {
		t.Fatalf("%v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"a":"lunch"}`), &back); !errors.Is(err, ErrUnknownAvailability) {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := json.Marshal(Availability(-1)); err == nil {
		t.Error("invalid level marshalled")
	}
}

func TestTextLevels(t *testing.T) {
	cases := []struct {
		text string
		want Availability
		ok   bool
	}{
		{"Online", Online, true},
		{"  do   NOT disturb!! ", DoNotDisturb, true},
		{"Don\u2019t disturb me!", DoNotDisturb, true},
		{"DND", DoNotDisturb, true},
		{"be_right_back", BeRightBack, true},
		{"Be-Right-Back.", BeRightBack, true},
		{"On the phone", Busy, true},
		{"Out to lunch", Away, true},
		{"In a meeting", InAMeeting, true},
		{"Appear offline", Offline, true},
		{"Busy week", Online, false},
		{"I'll be in Tokyo next week", Online, false},
	}
	for _, c := range cases {
		got, ok := textLevel(c.text)
		if ok != c.ok || ok && got != c.want {
			t.Errorf("textLevel(%q) = %s, %v; want %s, %v", c.text, got, ok, c.want, c.ok)
		}
	}
}

func TestActivityLevels(t *testing.T) {
	cases := map[string]Availability{
		"busy": Busy, "on-the-phone": Busy, "performance": Busy,
		"presentation": DoNotDisturb, "other:dnd": DoNotDisturb, "other:do-not-disturb": DoNotDisturb,
		"meeting": InAMeeting, "appointment": InAMeeting,
		"away": Away, "steering": Away, "sleeping": Away, "vacation": Away, "holiday": Away, "travel": Away,
		"other:brb": BeRightBack, "other:be-right-back": BeRightBack,
	}
	for act, want := range cases {
		if got, ok := activityLevel(act); !ok || got != want {
			t.Errorf("activity %q: %s %v, want %s", act, got, ok, want)
		}
	}
	for _, act := range []string{"working", "playing", "tv", "unknown", "other:brooding", "other:"} {
		if got, ok := activityLevel(act); ok {
			t.Errorf("activity %q should say nothing, says %s", act, got)
		}
	}
}
