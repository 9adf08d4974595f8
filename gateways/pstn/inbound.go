package pstn

import (
	"errors"
	"fmt"
	"strings"
)

// Inbound call outcomes.
var (
	// ErrUnknownTrunk: the call names no trunk of the document.
	ErrUnknownTrunk = errors.New("unknown trunk")
	// ErrUnassigned: the called number is no user's (404).
	ErrUnassigned = errors.New("unassigned number")
)

// Inbound is a call from a trunk with its numbers read back to E.164.
type Inbound struct {
	Trunk   string
	Called  string // E.164
	Calling string // E.164, "" when the trunk sent none we can read (anonymous)
	User    string // the user whose number Called is
}

// Inbound reads the numbers of a call that arrived from trunk (already
// identified by source address or Contact token: not here yet) with the
// trunk's number formats, and finds the user the called number belongs
// to through the reverse index of users' numbers. called and calling
// are what the trunk sent: a user part, a tel: or SIP URI.
func (pl *Plan) Inbound(trunk, called, calling string) (Inbound, error) {
	t := pl.trunks[strings.ToLower(trunk)]
	if t == nil {
		return Inbound{}, fmt.Errorf("pstn: %q: %w", trunk, ErrUnknownTrunk)
	}
	in := Inbound{Trunk: t.Name}
	d, err := ParseDialled(called)
	if err != nil {
		return in, err
	}
	e, ok := t.called.Inward(d.Digits)
	if !ok || !isE164(e) {
		return in, fmt.Errorf("pstn: trunk %q: called %q is not a number in its format: %w", t.Name, called, ErrNotANumber)
	}
	in.Called = e
	if d, err := ParseDialled(calling); err == nil {
		if e, ok := t.calling.Inward(d.Digits); ok && isE164(e) {
			in.Calling = e
		}
	}
	if in.User = pl.numbers[in.Called]; in.User == "" {
		return in, fmt.Errorf("pstn: trunk %q: %s: %w", t.Name, in.Called, ErrUnassigned)
	}
	return in, nil
}

// UserOfNumber is the user a number (E.164, or E.164;ext=N) belongs to.
func (pl *Plan) UserOfNumber(number string) (string, bool) {
	u, ok := pl.numbers[number]
	return u, ok
}
