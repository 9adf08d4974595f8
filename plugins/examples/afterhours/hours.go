package main

import (
	"fmt"
	"strings"
	"time"
)

// hours are the office hours: from open to close (minutes after
// midnight) on days, in loc.
type hours struct {
	open, close int
	days        map[time.Weekday]bool
	loc         *time.Location
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// parseHours reads "09:00", "17:00", "mon-fri" (or "mon,wed,fri") and a
// time zone name.
func parseHours(open, close, days, tz string) (hours, error) {
	h := hours{days: make(map[time.Weekday]bool)}
	var err error
	if h.open, err = clock(open); err != nil {
		return h, err
	}
	if h.close, err = clock(close); err != nil {
		return h, err
	}
	if h.loc, err = time.LoadLocation(tz); err != nil {
		return h, fmt.Errorf("afterhours: tz %q: %w", tz, err)
	}
	for _, part := range strings.Split(strings.ToLower(days), ",") {
		from, to, isRange := strings.Cut(strings.TrimSpace(part), "-")
		if !isRange {
			to = from
		}
		a, b := day(from), day(to)
		if a < 0 || b < 0 {
			return h, fmt.Errorf("afterhours: days %q (want mon-fri or mon,wed)", days)
		}
		for d := a; ; d = (d + 1) % 7 {
			h.days[time.Weekday(d)] = true
			if d == b {
				break
			}
		}
	}
	return h, nil
}

func clock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("afterhours: time %q (want HH:MM): %w", s, err)
	}
	return t.Hour()*60 + t.Minute(), nil
}

func day(s string) int {
	for i, d := range weekdays {
		if strings.HasPrefix(s, d) && s != "" {
			return i
		}
	}
	return -1
}

// open reports whether the office is open at t. Hours that wrap past
// midnight (22:00-06:00) are a night shift.
func (h hours) isOpen(t time.Time) bool {
	t = t.In(h.loc)
	m := t.Hour()*60 + t.Minute()
	if h.open <= h.close {
		return h.days[t.Weekday()] && m >= h.open && m < h.close
	}
	if m >= h.open {
		return h.days[t.Weekday()]
	}
	return m < h.close && h.days[(t.Weekday()+6)%7]
}
