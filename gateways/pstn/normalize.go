package pstn

import (
	"fmt"
	"net/url"
	"strings"
)

// Dialled is what a phone sent, reduced to its digits: from a bare
// string ("912065550100", "+1 (206) 555-0100"), a tel: URI (global, or
// local with phone-context) or a SIP URI (with or without user=phone:
// baresip dials sip:912065550100@domain).
type Dialled struct {
	Digits       string // '+' (first only), 0-9, '*', '#'; visual separators dropped
	PhoneContext string // RFC 3966 phone-context, "" when absent
}

// Global reports whether the digits are a global number (+...).
func (d Dialled) Global() bool { return strings.HasPrefix(d.Digits, "+") }

// maxDialled bounds a dialled string (RFC 3966 puts no limit; phones
// never send more than a few dozen characters).
const maxDialled = 256

// ParseDialled reads a dialled string. It does plain string work only.
func ParseDialled(s string) (Dialled, error) {
	if len(s) > maxDialled {
		return Dialled{}, fmt.Errorf("pstn: dialled string over %d bytes: %w", maxDialled, ErrNotANumber)
	}
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	var uriParams string
	switch scheme, rest, _ := strings.Cut(s, ":"); strings.ToLower(scheme) {
	case "tel":
		s = rest
	case "sip", "sips":
		at := strings.IndexByte(rest, '@')
		if at < 0 {
			return Dialled{}, fmt.Errorf("pstn: %q has no user part: %w", s, ErrNotANumber)
		}
		s, uriParams = rest[:at], rest[at+1:]
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
		if i := strings.IndexByte(s, ':'); i >= 0 { // user:password
			s = s[:i]
		}
	}
	num, params, _ := strings.Cut(s, ";")
	var d Dialled
	d.PhoneContext = param(params, "phone-context")
	if d.PhoneContext == "" {
		// a SIP URI's own parameters are no phone-context, but some
		// phones put it there
		_, hp, _ := strings.Cut(uriParams, ";")
		d.PhoneContext = param(hp, "phone-context")
	}
	var b strings.Builder
	for i := 0; i < len(num); i++ {
		switch c := num[i]; {
		case c >= '0' && c <= '9', c == '*', c == '#':
			b.WriteByte(c)
		case c == '+' && b.Len() == 0:
			b.WriteByte(c)
		case c == '-', c == '.', c == '(', c == ')', c == ' ':
		default:
			return Dialled{}, fmt.Errorf("pstn: %q: %q is not a dialable character: %w", num, c, ErrNotANumber)
		}
	}
	d.Digits = b.String()
	if d.Digits == "" || d.Digits == "+" {
		return Dialled{}, fmt.Errorf("pstn: %q holds no digits: %w", s, ErrNotANumber)
	}
	return d, nil
}

// param returns the value of name in ";"-separated parameters.
func param(params, name string) string {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		if k, v, _ := strings.Cut(p, "="); strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Normalized is a dialled string after its dial plan.
type Normalized struct {
	Number    string // E.164, or an internal extension
	Extension bool   // an internal-extension rule matched
	DialPlan  string // the plan applied ("" when none applies)
	PlanWhy   string // why that plan: phone-context, user, site, global
	Rule      string // the rule that matched ("" for a global number no rule touched)
	Dialled   Dialled
}

// Normalize applies the caller's dial plan to a dialled string: the plan
// the phone-context names, else the user's own, their site's, the global
// one. The first matching rule rewrites the digits; a global number no
// rule matches is taken as it is.
func (pl *Plan) Normalize(caller, dialled string) (Normalized, error) {
	d, err := ParseDialled(dialled)
	if err != nil {
		return Normalized{}, err
	}
	dp, why := pl.planFor(caller, d.PhoneContext)
	n, err := dp.normalizeDigits(d)
	n.PlanWhy = why
	return n, err
}

// planFor chooses the dial plan (nil: none).
func (pl *Plan) planFor(caller, phoneContext string) (*dialPlan, string) {
	if pc := strings.ToLower(phoneContext); pc != "" {
		if dp := pl.contexts[pc]; dp != nil {
			return dp, "phone-context " + phoneContext
		}
		if dp := pl.dialPlans[pc]; dp != nil {
			return dp, "phone-context " + phoneContext + " (the plan's name)"
		}
	}
	note := ""
	if phoneContext != "" {
		note = " (phone-context " + phoneContext + " names no plan)"
	}
	if u := pl.users[strings.ToLower(caller)]; u != nil {
		if u.dialPlan != nil {
			return u.dialPlan, "the user's plan" + note
		}
		if dp := pl.sites[strings.ToLower(u.Site)]; u.Site != "" && dp != nil {
			return dp, "site " + u.Site + note
		}
	}
	if pl.global != nil {
		return pl.global, "global" + note
	}
	return nil, "no dial plan" + note
}

// normalize runs a raw dialled string through the plan (Validate's tests).
func (dp *dialPlan) normalize(dialled string) (Normalized, error) {
	d, err := ParseDialled(dialled)
	if err != nil {
		return Normalized{}, err
	}
	return dp.normalizeDigits(d)
}

func (dp *dialPlan) normalizeDigits(d Dialled) (Normalized, error) {
	n := Normalized{Dialled: d}
	if dp != nil {
		n.DialPlan = dp.name
		for i := range dp.rules {
			r := &dp.rules[i]
			m := r.re.FindStringSubmatchIndex(d.Digits)
			if m == nil {
				continue
			}
			n.Rule, n.Extension = r.Name, r.InternalExtension
			n.Number = r.tpl.expand(d.Digits, m)
			if !n.Extension && !isE164(n.Number) {
				return n, fmt.Errorf("pstn: dial plan %q rule %q turns %q into %q, not an E.164 number: %w",
					dp.name, r.Name, d.Digits, n.Number, ErrNotANumber)
			}
			return n, nil
		}
	}
	if d.Global() {
		if !isE164(d.Digits) {
			return n, fmt.Errorf("pstn: %q is not an E.164 number: %w", d.Digits, ErrNotANumber)
		}
		n.Number = d.Digits
		return n, nil
	}
	plan := "no dial plan"
	if dp != nil {
		plan = fmt.Sprintf("dial plan %q", dp.name)
	}
	return n, fmt.Errorf("pstn: %s: no rule matches %q: %w", plan, d.Digits, ErrNoRule)
}
