package pstn

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Plan is the compiled form of a valid Config: what answers calls. It is
// read-only and safe for concurrent use; a new document gives a new Plan.
type Plan struct {
	cfg       *Config
	dialPlans map[string]*dialPlan // by lower-case name
	contexts  map[string]*dialPlan // by lower-case phone-context
	global    *dialPlan
	sites     map[string]*dialPlan // by lower-case site
	users     map[string]*user     // by lower-case address of record
	numbers   map[string]string    // E.164[;ext=N] -> user (the reverse index)
	policies  map[string]*policy
	defPolicy *policy
	trunks    map[string]*trunk
	routes    []*route
	index     trie
}

type dialPlan struct {
	name  string
	rules []rule
}

type rule struct {
	Rule
	re  *regexp.Regexp
	tpl template
}

type user struct {
	User
	numbers  []string // E.164 (extensions dropped)
	policy   *policy
	dialPlan *dialPlan
}

type policy struct {
	name    string
	rank    map[string]int // usage -> position
	usages  []string
	blocked prefixSet
	allowed prefixSet
}

type route struct {
	Route
	usages []string // lower case
	trunks []*trunk // the gateway list's trunks, in document order
	re     *regexp.Regexp
	digits string // the trie key (prefix routes: the prefix without '+')
}

type trunk struct {
	Trunk
	called, calling numberFormat
	failover        FailoverPolicy
}

// prefixSet answers "does s start with one of these" with one map
// lookup per distinct prefix length.
type prefixSet struct {
	set  map[string]bool
	lens []int
}

func (p *prefixSet) add(s string) {
	if p.set == nil {
		p.set = map[string]bool{}
	}
	if !p.set[s] {
		p.set[s] = true
		for _, l := range p.lens {
			if l == len(s) {
				return
			}
		}
		p.lens = append(p.lens, len(s))
	}
}

// match returns the longest prefix of s in the set.
func (p *prefixSet) match(s string) (string, bool) {
	best := -1
	for _, l := range p.lens {
		if l <= len(s) && l > best && p.set[s[:l]] {
			best = l
		}
	}
	if best < 0 {
		return "", false
	}
	return s[:best], true
}

// Compile validates c (as Validate does) and builds its Plan.
func Compile(c *Config, self ...string) (*Plan, error) {
	var p problems
	pl := &Plan{
		cfg:       c,
		dialPlans: map[string]*dialPlan{},
		contexts:  map[string]*dialPlan{},
		sites:     map[string]*dialPlan{},
		users:     map[string]*user{},
		numbers:   map[string]string{},
		policies:  map[string]*policy{},
		trunks:    map[string]*trunk{},
	}
	pl.compileTrunks(&p, self)
	served := pl.compileRoutes(&p)
	pl.compilePolicies(&p, served)
	pl.compileDialPlans(&p)
	pl.compileUsers(&p)
	if err := p.err(); err != nil {
		return nil, err
	}
	return pl, nil
}

func (pl *Plan) compileTrunks(p *problems, self []string) {
	seen := names{}
	for _, t := range pl.cfg.Trunks {
		if !seen.check(p, "trunk", t.Name) {
			continue
		}
		where := fmt.Sprintf("trunk %q", t.Name)
		tk := &trunk{Trunk: t}
		if host, port, err := parseAddress(t.Address); err != nil {
			p.add(ErrInvalid, where, "address: %v", err)
		} else if isSelf(host, port, self) {
			p.add(ErrLoop, where, "address %q is this cluster (a call would come back to us: 482)", t.Address)
		}
		switch t.State {
		case "", Enabled, Draining, Disabled:
		default:
			p.add(ErrInvalid, where, "state %q is not enabled, draining or disabled", t.State)
		}
		tk.called = checkFormat(p, where+" called", t.Called)
		tk.calling = checkFormat(p, where+" calling", t.Calling)
		if t.CallerID.AssertIdentity && !t.Trusted {
			p.add(ErrInvalid, where, "assert_identity on an untrusted trunk: P-Asserted-Identity goes only to trusted trunks (RFC 3325)")
		}
		switch t.CallerID.Privacy {
		case "", PrivacyPassthrough, PrivacyID, PrivacyNone:
		default:
			p.add(ErrInvalid, where, "caller_id privacy %q is not passthrough, id or none", t.CallerID.Privacy)
		}
		if d := t.CallerID.Default; d != "" {
			if _, _, err := parseLineURI(d); err != nil {
				p.add(ErrNumber, where, "caller_id default: %v", err)
			}
		}
		if t.MaxCalls < 0 {
			p.add(ErrInvalid, where, "max_calls %d is negative", t.MaxCalls)
		}
		if t.CallsPerSecond < 0 || t.CallsPerSecond > 1000 {
			p.add(ErrInvalid, where, "calls_per_second %v is not 0 to 1000", t.CallsPerSecond)
		}
		timer := time.Duration(t.Failover.Timer)
		if timer != 0 && (timer < minFailoverTimer || timer > maxFailoverTimer) {
			p.add(ErrInvalid, where, "failover timer %s is not %s to %s", timer, minFailoverTimer, maxFailoverTimer)
		}
		tk.failover = PolicyFor(t.Failover)
		pl.trunks[strings.ToLower(t.Name)] = tk
	}
}

// compileRoutes returns the usages some route serves.
func (pl *Plan) compileRoutes(p *problems) map[string]bool {
	seen := names{}
	served := map[string]bool{}
	for _, r := range pl.cfg.Routes {
		if !seen.check(p, "route", r.Name) {
			continue
		}
		where := fmt.Sprintf("route %q", r.Name)
		rt := &route{Route: r}
		switch {
		case (r.Prefix == "") == (r.Pattern == ""):
			p.add(ErrInvalid, where, "give a prefix or a pattern (one of them)")
		case r.Prefix != "":
			if !checkPrefix(r.Prefix) {
				p.add(ErrNumber, where, "prefix %q is not '+' and digits", r.Prefix)
				continue
			}
			rt.digits = strings.TrimPrefix(r.Prefix, "+")
		default:
			re, err := regexp.Compile(r.Pattern)
			if err != nil {
				p.add(ErrPattern, where, "%v", err)
				continue
			}
			rt.re = re
			rt.digits, _ = anchoredDigits(r.Pattern)
		}
		if len(r.Usages) == 0 {
			p.add(ErrInvalid, where, "serves no usage")
		}
		for _, u := range r.Usages {
			served[strings.ToLower(u)] = true
			rt.usages = append(rt.usages, strings.ToLower(u))
		}
		if !pl.checkGateways(p, where, r.Gateways) {
			continue
		}
		for _, m := range r.Gateways.Members {
			rt.trunks = append(rt.trunks, pl.trunks[strings.ToLower(m.Trunk)])
		}
		pl.index.insert(rt.digits, int32(len(pl.routes)))
		pl.routes = append(pl.routes, rt)
	}
	return served
}

// checkGateways reports whether the list's trunks are all usable.
func (pl *Plan) checkGateways(p *problems, where string, g Gateways) bool {
	before := len(*p)
	switch g.Mode {
	case "", Ordered, Weighted:
	default:
		p.add(ErrInvalid, where, "gateway mode %q is not ordered or weighted", g.Mode)
	}
	if len(g.Members) == 0 {
		p.add(ErrInvalid, where, "no gateways")
	}
	if len(g.Members) > maxMembers {
		p.add(ErrInvalid, where, "%d gateways: at most %d", len(g.Members), maxMembers)
	}
	seen := map[string]bool{}
	for _, m := range g.Members {
		key := strings.ToLower(m.Trunk)
		switch {
		case pl.trunks[key] == nil && !trunkNamed(pl.cfg.Trunks, m.Trunk):
			p.add(ErrUnknownRef, where, "trunk %q is not defined", m.Trunk)
		case seen[key]:
			p.add(ErrDuplicate, where, "trunk %q listed twice", m.Trunk)
		}
		seen[key] = true
		if g.Mode == Weighted && (m.Weight < 1 || m.Weight > 1000) {
			p.add(ErrInvalid, where, "trunk %q: weight %d is not 1 to 1000", m.Trunk, m.Weight)
		}
		if g.Mode != Weighted && m.Weight != 0 {
			p.add(ErrInvalid, where, "trunk %q: a weight in an ordered list (set mode weighted)", m.Trunk)
		}
		if pl.trunks[key] == nil {
			before = -1 // refused trunk: reported on its own
		}
	}
	return before >= 0 && len(*p) == before
}

// trunkNamed: a trunk defined but refused (its own problems are
// reported) is not also an unknown reference.
func trunkNamed(ts []Trunk, name string) bool {
	for _, t := range ts {
		if strings.EqualFold(t.Name, name) {
			return true
		}
	}
	return false
}

func (pl *Plan) compilePolicies(p *problems, served map[string]bool) {
	seen := names{}
	for _, po := range pl.cfg.Policies {
		if !seen.check(p, "policy", po.Name) {
			continue
		}
		where := fmt.Sprintf("policy %q", po.Name)
		pp := &policy{name: po.Name, rank: map[string]int{}}
		if po.Default {
			if pl.defPolicy != nil {
				p.add(ErrDuplicate, where, "a second default policy (%q is one)", pl.defPolicy.name)
			}
			pl.defPolicy = pp
		}
		for _, u := range po.Usages {
			key := strings.ToLower(u)
			if _, dup := pp.rank[key]; dup {
				p.add(ErrDuplicate, where, "usage %q listed twice", u)
				continue
			}
			if !served[key] {
				p.add(ErrUnknownRef, where, "usage %q: no route serves it", u)
			}
			pp.rank[key] = len(pp.usages)
			pp.usages = append(pp.usages, u)
		}
		for _, b := range po.Blocked {
			if !checkPrefix(b) {
				p.add(ErrNumber, where, "blocked prefix %q is not '+' and digits", b)
			}
			pp.blocked.add(b)
		}
		for _, a := range po.Allowed {
			if !checkPrefix(a) {
				p.add(ErrNumber, where, "allowed prefix %q is not '+' and digits", a)
			}
			pp.allowed.add(a)
		}
		pl.policies[strings.ToLower(po.Name)] = pp
	}
}

func (pl *Plan) compileDialPlans(p *problems) {
	seen := names{}
	for _, d := range pl.cfg.DialPlans {
		if !seen.check(p, "dial plan", d.Name) {
			continue
		}
		where := fmt.Sprintf("dial plan %q", d.Name)
		dp := &dialPlan{name: d.Name}
		switch d.Scope {
		case ScopeGlobal:
			if pl.global != nil {
				p.add(ErrDuplicate, where, "a second global plan (%q is one)", pl.global.name)
			}
			pl.global = dp
		case ScopeSite:
			key := strings.ToLower(d.Site)
			if d.Site == "" {
				p.add(ErrInvalid, where, "scope site needs a site")
			} else if o := pl.sites[key]; o != nil {
				p.add(ErrDuplicate, where, "site %q already has plan %q", d.Site, o.name)
			}
			pl.sites[key] = dp
		case ScopeUser:
		default:
			p.add(ErrInvalid, where, "scope %q is not global, site or user", d.Scope)
		}
		if d.Scope != ScopeSite && d.Site != "" {
			p.add(ErrInvalid, where, "a site on a %s plan", d.Scope)
		}
		if pc := strings.ToLower(d.PhoneContext); pc != "" {
			if o := pl.contexts[pc]; o != nil {
				p.add(ErrDuplicate, where, "phone_context %q is also plan %q's", d.PhoneContext, o.name)
			}
			pl.contexts[pc] = dp
		}
		rules := names{}
		before := len(*p)
		for _, r := range d.Rules {
			if !rules.check(p, where+" rule", r.Name) {
				continue
			}
			rw := fmt.Sprintf("%s rule %q", where, r.Name)
			re, err := regexp.Compile(r.Pattern)
			if err != nil {
				p.add(ErrPattern, rw, "%v", err)
				continue
			}
			tpl, err := compileTemplate(r.Translation, re)
			if err != nil {
				p.add(ErrTranslation, rw, "%q: %v", r.Translation, err)
				continue
			}
			if !r.InternalExtension && tpl.isLiteral() && !isE164(r.Translation) {
				p.add(ErrTranslation, rw, "%q is not an E.164 number (mark the rule internal_extension?)", r.Translation)
			}
			dp.rules = append(dp.rules, rule{Rule: r, re: re, tpl: tpl})
		}
		pl.dialPlans[strings.ToLower(d.Name)] = dp
		if len(*p) > before {
			continue // the plan's tests would fail for the rules already reported
		}
		for _, tc := range d.Tests {
			n, err := dp.normalize(tc.Dialled)
			if err != nil {
				p.add(ErrTranslation, where, "test %q: %s", tc.Dialled, strings.TrimPrefix(err.Error(), "pstn: "))
			} else if n.Number != tc.Want {
				p.add(ErrTranslation, where, "test %q gives %q (rule %q), want %q", tc.Dialled, n.Number, n.Rule, tc.Want)
			}
		}
	}
}

func (pl *Plan) compileUsers(p *problems) {
	seen := names{}
	for _, u := range pl.cfg.Users {
		if !seen.check(p, "user", u.Name) {
			continue
		}
		where := fmt.Sprintf("user %q", u.Name)
		us := &user{User: u}
		if !strings.Contains(u.Name, "@") {
			p.add(ErrInvalid, where, "not an address of record (user@domain)")
		}
		for _, n := range u.Numbers {
			e164, ext, err := parseLineURI(n)
			if err != nil {
				p.add(ErrNumber, where, "%v", err)
				continue
			}
			key := e164
			if ext != "" {
				key += ";ext=" + ext
			}
			if o, dup := pl.numbers[key]; dup {
				p.add(ErrDuplicate, where, "number %s is also user %q's", key, o)
				continue
			}
			pl.numbers[key] = u.Name
			us.numbers = append(us.numbers, e164)
		}
		if u.Policy != "" {
			if us.policy = pl.policies[strings.ToLower(u.Policy)]; us.policy == nil {
				p.add(ErrUnknownRef, where, "policy %q is not defined", u.Policy)
			}
		}
		if u.DialPlan != "" {
			us.dialPlan = pl.dialPlans[strings.ToLower(u.DialPlan)]
			if us.dialPlan == nil {
				p.add(ErrUnknownRef, where, "dial plan %q is not defined", u.DialPlan)
			} else if !planScoped(pl.cfg.DialPlans, u.DialPlan, ScopeUser) {
				p.add(ErrInvalid, where, "dial plan %q is not a user-scoped plan", u.DialPlan)
			}
		}
		pl.users[strings.ToLower(u.Name)] = us
	}
}

func planScoped(ds []DialPlan, name, scope string) bool {
	for _, d := range ds {
		if strings.EqualFold(d.Name, name) {
			return d.Scope == scope
		}
	}
	return false
}

func (t template) isLiteral() bool {
	for _, p := range t {
		if p.group >= 0 {
			return false
		}
	}
	return true
}
