package pstn

import (
	"errors"
	"testing"
)

func TestInbound(t *testing.T) {
	c := loadConfig(t)
	c.Users = append(c.Users, User{Name: "dave@example.com", Numbers: []string{"tel:+12065550124"}})
	pl, err := Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, trunk, called, calling string
		user, e164, from             string
		err                          error
	}{
		// gwB writes US numbers nationally and calling numbers as digits
		{"national DID", "gwB", "2065550124", "12065550199", "dave@example.com", "+12065550124", "+12065550199", nil},
		{"as a URI", "gwB", "sip:2065550124@10.0.0.1;user=phone", "sip:12065550199@10.0.0.1", "dave@example.com", "+12065550124", "+12065550199", nil},
		{"e164 from an e164 trunk", "gwA", "tel:+1-206-555-0124", "+12065550199", "dave@example.com", "+12065550124", "+12065550199", nil},
		{"anonymous caller", "GWA", "+12065550124", "anonymous", "dave@example.com", "+12065550124", "", nil},
		{"carrier prefix stripped", "carrier", "7788#12065550124", "", "dave@example.com", "+12065550124", "", nil},
		{"alice", "gwA", "+12065550101", "", "alice@example.com", "+12065550101", "", nil},
		{"an extension number is no DID", "gwA", "+12065550123", "", "", "+12065550123", "", ErrUnassigned},
		{"unassigned", "gwB", "2065550188", "", "", "+12065550188", "", ErrUnassigned},
		{"garbage", "gwB", "hello", "", "", "", "", ErrNotANumber},
		{"unknown trunk", "gwZ", "2065550124", "", "", "", "", ErrUnknownTrunk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := pl.Inbound(tc.trunk, tc.called, tc.calling)
			if !errors.Is(err, tc.err) || (err != nil) != (tc.err != nil) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if in.User != tc.user || in.Called != tc.e164 || in.Calling != tc.from {
				t.Errorf("%+v", in)
			}
		})
	}
	if u, ok := pl.UserOfNumber("+12065550123;ext=123"); !ok || u != "bob@example.com" {
		t.Errorf("%q %v", u, ok)
	}
}
