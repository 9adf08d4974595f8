package presdoc

import (
	"fmt"
	"strings"
)

// Availability is one of LCS 2005's availability levels.
type Availability int

// The levels. Their String forms are the names ParseAvailability takes.
const (
	Offline      Availability = iota // "offline"
	Online                           // "online"
	Busy                             // "busy"
	DoNotDisturb                     // "do-not-disturb"
	BeRightBack                      // "be-right-back"
	Away                             // "away"
	InAMeeting                       // "in-a-meeting"
)

// Levels lists every level, in declaration order. Do not modify it.
var Levels = []Availability{Offline, Online, Busy, DoNotDisturb, BeRightBack, Away, InAMeeting}

var levelNames = [...]string{"offline", "online", "busy", "do-not-disturb", "be-right-back", "away", "in-a-meeting"}

// levelNotes are the human notes Compose writes when the caller gives none.
var levelNotes = [...]string{"Offline", "Online", "Busy", "Do not disturb", "Be right back", "Away", "In a meeting"}

func (a Availability) valid() bool { return a >= Offline && a <= InAMeeting }

// String returns the level's name, such as "do-not-disturb".
func (a Availability) String() string {
	if !a.valid() {
		return fmt.Sprintf("availability(%d)", int(a))
	}
	return levelNames[a]
}

// Note returns the level's human text, such as "Do not disturb".
func (a Availability) Note() string {
	if !a.valid() {
		return ""
	}
	return levelNotes[a]
}

// ParseAvailability reads a level name as String writes it (any case,
// surrounding space ignored).
func ParseAvailability(s string) (Availability, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for i, n := range levelNames {
		if t == n {
			return Availability(i), nil
		}
	}
	return Offline, fmt.Errorf(errorPfx+"%q: %w", s, ErrUnknownAvailability)
}

// MarshalText writes the level's name (for JSON and YAML).
func (a Availability) MarshalText() ([]byte, error) {
	if !a.valid() {
		return nil, fmt.Errorf(errorPfx+"%d: %w", int(a), ErrUnknownAvailability)
	}
	return []byte(a.String()), nil
}

// UnmarshalText reads a level name.
func (a *Availability) UnmarshalText(b []byte) error {
	v, err := ParseAvailability(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// docRank orders the signals found in ONE publication: the strongest
// wins. An explicit "offline" beats everything (it means closed); among
// the others the most specific statement wins, so that "away" plus
// "be-right-back" reads as be-right-back and "busy" plus "do-not-disturb"
// as do-not-disturb.
var docRank = [...]int{
	Offline: 6, DoNotDisturb: 5, InAMeeting: 4, Busy: 3, BeRightBack: 2, Away: 1, Online: 0,
}

// aggRank orders publications of one user (Aggregate): states a user or a
// calendar set explicitly beat passive availability; among the passive
// ones the most available wins.
var aggRank = [...]int{
	DoNotDisturb: 6, InAMeeting: 5, Busy: 4, Online: 3, BeRightBack: 2, Away: 1, Offline: 0,
}

// activityLevels maps RFC 4480 activities (local names) to levels.
// Activities absent here (working, playing, tv, shopping, unknown...) say
// nothing about availability.
var activityLevels = map[string]Availability{
	"busy":              Busy,
	"on-the-phone":      Busy,
	"performance":       Busy,
	"presentation":      DoNotDisturb, // LCS: full-screen mode -> do not disturb
	"meeting":           InAMeeting,
	"appointment":       InAMeeting,
	"away":              Away,
	"steering":          Away,
	"sleeping":          Away,
	"vacation":          Away,
	"holiday":           Away,
	"travel":            Away,
	"in-transit":        Away,
	"permanent-absence": Away,
	"meal":              Away,
	"breakfast":         Away,
	"lunch":             Away,
	"dinner":            Away,
}

// textLevels maps free texts (notes, <rpid:other>, old-style activity
// names), normalized by normText, to levels. Only whole texts match.
var textLevels = map[string]Availability{
	"online": Online, "available": Online,
	"offline": Offline, "appear offline": Offline, "invisible": Offline,
	"busy": Busy, "on the phone": Busy, "in a call": Busy, "on a call": Busy,
	"do not disturb": DoNotDisturb, "don't disturb": DoNotDisturb, "don't disturb me": DoNotDisturb,
	"dnd": DoNotDisturb, "donotdisturb": DoNotDisturb, "presenting": DoNotDisturb,
	"be right back": BeRightBack, "brb": BeRightBack, "berightback": BeRightBack,
	"away": Away, "idle": Away, "out to lunch": Away, "inactive": Away,
	"in a meeting": InAMeeting, "meeting": InAMeeting, "in meeting": InAMeeting,
}

// normText lowercases s, turns '-' and '_' into spaces, folds runs of
// space, drops trailing punctuation and unifies apostrophes.
func normText(s string) string {
	s = strings.ToLower(s)
	s = strings.NewReplacer("-", " ", "_", " ", "\u2019", "'").Replace(s)
	s = strings.Join(strings.Fields(s), " ")
	return strings.TrimRight(s, ".!")
}

// textLevel is the level a free text names, if any.
func textLevel(s string) (Availability, bool) {
	if len(s) > 64 {
		return Online, false
	}
	a, ok := textLevels[normText(s)]
	return a, ok
}

// activityLevel is the level an activity (as Parse records it) names.
func activityLevel(act string) (Availability, bool) {
	if text, ok := strings.CutPrefix(act, "other:"); ok {
		return textLevel(text)
	}
	if a, ok := activityLevels[act]; ok {
		return a, true
	}
	return textLevel(act) // old-style activity texts: "be right back"
}
