package pstn

import (
	"fmt"
	"strings"
)

// Report is a dry run of a call: what `parleyctl pstn test USER DIALLED`
// prints (String).
type Report struct {
	User, Dialled string
	Normalized    Normalized
	Decision      Decision
	Err           error // why the call would be refused; nil when routed
}

// Explain dry-runs a call from user to dialled against cfg: the
// normalized number and its rule, the route, the gateways in order and
// why. The error is for a configuration that does not validate; a call
// that would be refused is a Report with Err set.
func Explain(cfg *Config, user, dialled string) (Report, error) {
	pl, err := Compile(cfg)
	if err != nil {
		return Report{}, err
	}
	return pl.Explain(user, dialled, "dry-run", nil), nil
}

// Explain dry-runs a call on a compiled plan, with the Call-ID that
// draws weighted lists and the health view (nil: all up).
func (pl *Plan) Explain(user, dialled, callID string, up func(string) bool) Report {
	r := Report{User: user, Dialled: dialled}
	r.Normalized, r.Err = pl.Normalize(user, dialled)
	if r.Err != nil {
		return r
	}
	if r.Normalized.Extension {
		return r
	}
	r.Decision, r.Err = pl.Decide(user, r.Normalized.Number, callID, up)
	return r
}

// String is the report as parleyctl prints it.
func (r Report) String() string {
	var b strings.Builder
	line := func(k, format string, args ...any) {
		fmt.Fprintf(&b, "%-10s %s\n", k+":", fmt.Sprintf(format, args...))
	}
	n := r.Normalized
	line("user", "%s", r.User)
	line("dialled", "%s", r.Dialled)
	if n.Dialled.Digits != "" {
		digits := n.Dialled.Digits
		if n.Dialled.PhoneContext != "" {
			digits += " (phone-context " + n.Dialled.PhoneContext + ")"
		}
		line("digits", "%s", digits)
		if n.DialPlan != "" {
			line("dial plan", "%s (%s)", n.DialPlan, n.PlanWhy)
		} else {
			line("dial plan", "none (%s)", n.PlanWhy)
		}
	}
	switch {
	case n.Rule != "":
		line("rule", "%s", n.Rule)
	case n.Number != "":
		line("rule", "none: a global number is taken as it is")
	}
	if n.Number != "" {
		kind := "E.164"
		if n.Extension {
			kind = "internal extension: routed to a user, not the PSTN"
		}
		line("number", "%s (%s)", n.Number, kind)
	}
	d := r.Decision
	if d.Policy != "" {
		line("policy", "%s", d.Policy)
	}
	for i, g := range d.Gateways {
		if i == 0 {
			b.WriteString("gateways:\n")
		}
		fmt.Fprintf(&b, "  %d. %s called %s", i+1, g.Trunk, g.Called)
		if g.Calling != "" {
			fmt.Fprintf(&b, " calling %s", g.Calling)
		}
		if g.AssertIdentity() {
			b.WriteString(" (PAI)")
		}
		if g.Privacy() == PrivacyID {
			b.WriteString(" (Privacy: id)")
		}
		fmt.Fprintf(&b, "\n     %s; fast failover %s", g.Reason(), g.Failover().Timer)
		if g.Failover().OnEarlyMedia {
			b.WriteString(", also after early media")
		}
		b.WriteString("\n")
	}
	for _, s := range d.Skipped {
		line("skipped", "%s (route %q): %s", s.Trunk, s.Route, s.Why)
	}
	if r.Err != nil {
		line("refused", "%v", r.Err)
	}
	return b.String()
}
