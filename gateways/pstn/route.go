package pstn

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Choice is one gateway of a route decision, and why it is there.
type Choice struct {
	Trunk    string
	Route    string // the route that brought it
	Usage    string // the caller's usage that route served
	Weighted bool   // drawn from a weighted list
	Down     bool   // reported down: demoted to the end
	Called   string // the called number as the trunk wants it
	Calling  string // the caller's number as the trunk wants it ("" if none)
	t        *trunk
	r        *route
}

// Priority is the route's priority.
func (c Choice) Priority() int { return c.r.Priority }

// Match is the route's prefix or pattern.
func (c Choice) Match() string { return c.r.Prefix + c.r.Pattern }

// AssertIdentity: send P-Asserted-Identity (a trusted trunk asking for
// it; RFC 3325 never sends it to an untrusted one).
func (c Choice) AssertIdentity() bool { return c.t.Trusted && c.t.CallerID.AssertIdentity }

// Privacy is the trunk's privacy mode (PrivacyID: From anonymised).
func (c Choice) Privacy() string { return c.t.CallerID.Privacy }

// Failover is the trunk's failover policy.
func (c Choice) Failover() FailoverPolicy { return c.t.failover }

// Reason says why the gateway is where it is.
func (c Choice) Reason() string {
	var b strings.Builder
	fmt.Fprintf(&b, "route %q (usage %q, priority %d, match %s)", c.Route, c.Usage, c.Priority(), c.Match())
	if c.Weighted {
		b.WriteString(", weighted draw")
	}
	if c.Down {
		b.WriteString(", down: demoted to last")
	}
	return b.String()
}

// Skip is a gateway a matching route names but the call cannot use.
type Skip struct {
	Trunk, Route, Why string
}

// Decision is where a call to a number goes.
type Decision struct {
	Number   string // E.164
	Policy   string
	Gateways []Choice // in the order to try
	Skipped  []Skip   // disabled or draining trunks
}

// candidate is a matching route during a decision (no pointers: the
// sort moves it without write barriers).
type candidate struct {
	order    int32 // the route's position in the document
	rank     int32 // the usage's position in the caller's policy
	priority int32
	depth    int32 // digits of the route's prefix (specificity)
}

func (a candidate) before(b candidate) bool {
	switch {
	case a.rank != b.rank:
		return a.rank < b.rank
	case a.priority != b.priority:
		return a.priority < b.priority
	case a.depth != b.depth:
		return a.depth > b.depth
	}
	return a.order < b.order
}

// Decide routes a call from caller to an E.164 number: the caller's
// policy (blocked prefixes refused), the routes of its usages that match
// (usage order, then priority, then the longest prefix, then document
// order), their gateways (weighted lists drawn from callID, so a
// retransmission gets the same order), disabled and draining trunks left
// out, and trunks up reports down moved to the end (not excluded: the
// health view may be wrong, and a call through a doubtful gateway beats
// no call). up may be nil (all up).
func (pl *Plan) Decide(caller, number, callID string, up func(trunk string) bool) (Decision, error) {
	d := Decision{Number: number}
	if !isE164(number) {
		return d, fmt.Errorf("pstn: %q is not an E.164 number: %w", number, ErrNotANumber)
	}
	u := pl.users[strings.ToLower(caller)]
	if u == nil {
		return d, fmt.Errorf("pstn: %s: %w", caller, ErrUnknownUser)
	}
	po := u.policy
	if po == nil {
		po = pl.defPolicy
	}
	if po == nil {
		return d, fmt.Errorf("pstn: %s has no voice policy and there is no default: %w", caller, ErrNoRoute)
	}
	d.Policy = po.name
	if b, ok := po.blocked.match(number); ok {
		if a, ok := po.allowed.match(number); !ok || len(a) <= len(b) {
			return d, fmt.Errorf("pstn: %s: policy %q blocks %s (prefix %s): %w", caller, po.name, number, b, ErrBlocked)
		}
	}
	var buf [16]candidate
	cands := buf[:0]
	pl.index.walk(number[1:], func(rs []int32, depth int) {
		for _, i := range rs {
			r := pl.routes[i]
			if r.re != nil && !r.re.MatchString(number) {
				continue
			}
			rank := -1
			for _, us := range r.usages {
				if k, ok := po.rank[us]; ok && (rank < 0 || k < rank) {
					rank = k
				}
			}
			if rank >= 0 {
				cands = append(cands, candidate{order: i, rank: int32(rank), priority: int32(r.Priority), depth: int32(depth)})
			}
		}
	})
	if len(cands) == 0 {
		return d, fmt.Errorf("pstn: %s: no route of policy %q matches %s: %w", caller, po.name, number, ErrNoRoute)
	}
	for i := 1; i < len(cands); i++ { // insertion sort: few, nearly sorted
		for j := i; j > 0 && cands[j].before(cands[j-1]); j-- {
			cands[j], cands[j-1] = cands[j-1], cands[j]
		}
	}
	calling := ""
	if len(u.numbers) > 0 {
		calling = u.numbers[0]
	}
	d.Gateways = make([]Choice, 0, min(MaxGateways, 4*len(cands)))
	var downBuf [MaxGateways]Choice
	down := downBuf[:0]
	var seenBuf [MaxGateways * 2]*trunk
	seen := seenBuf[:0]
	var order [maxMembers]int
collect:
	for _, c := range cands {
		r := pl.routes[c.order]
		usage := po.usages[c.rank]
		for _, j := range pl.members(r, callID, order[:0]) {
			t := r.trunks[j]
			if len(d.Gateways)+len(down) == MaxGateways {
				break collect
			}
			if slices.Contains(seen, t) {
				continue
			}
			seen = append(seen, t)
			if t.State == Disabled || t.State == Draining {
				d.Skipped = append(d.Skipped, Skip{Trunk: t.Name, Route: r.Name, Why: t.State})
				continue
			}
			ch := Choice{
				Trunk: t.Name, Route: r.Name, Usage: usage, Weighted: r.Gateways.Mode == Weighted,
				Called: t.called.Outward(number), t: t, r: r,
			}
			if n := calling; n != "" || t.CallerID.Default != "" {
				if n == "" {
					n, _, _ = parseDefault(t.CallerID.Default)
				}
				ch.Calling = t.calling.Outward(n)
			}
			if up != nil && !up(t.Name) {
				ch.Down = true
				down = append(down, ch)
				continue
			}
			d.Gateways = append(d.Gateways, ch)
		}
	}
	d.Gateways = append(d.Gateways, down...)
	if len(d.Gateways) == 0 {
		return d, fmt.Errorf("pstn: %s: every gateway of the routes for %s is disabled or draining: %w", caller, number, ErrNoGateway)
	}
	return d, nil
}

// parseDefault reads a trunk's default caller number (validated already)
// with string work only: "tel:+1...;ext=..." -> "+1...".
func parseDefault(s string) (string, string, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "tel:")
	n, _, _ := strings.Cut(s, ";")
	return n, "", isE164(n)
}

// MaxGateways is the most gateways a decision lists (the contract's
// limit of targets in one Fork verdict).
const MaxGateways = 16

// maxMembers is the most trunks in one gateway list.
const maxMembers = 64

// members returns the positions of a route's trunks in the order of
// this call, appended to buf.
func (pl *Plan) members(r *route, callID string, buf []int) []int {
	ms := r.Gateways.Members
	for i := range ms {
		buf = append(buf, i)
	}
	if r.Gateways.Mode != Weighted {
		return buf
	}
	// Efraimidis-Spirakis: key -ln(u)/w, smallest first; u from a hash of
	// the Call-ID, the route and the trunk, so the order is the same for
	// every retransmission of the call.
	var keyBuf [maxMembers]float64
	keys := keyBuf[:len(ms)]
	base := fnvString(fnvString(fnvOffset, callID), r.Name)
	for i, m := range ms {
		u := (float64(mix(fnvString(base, m.Trunk))>>11) + 0.5) / (1 << 53)
		keys[i] = -math.Log(u) / float64(m.Weight)
	}
	// insertion sort: lists are short, and it allocates nothing
	for i := 1; i < len(buf); i++ {
		for j := i; j > 0 && keys[buf[j]] < keys[buf[j-1]]; j-- {
			buf[j], buf[j-1] = buf[j-1], buf[j]
		}
	}
	return buf
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnvString continues an FNV-1a hash over s and a 0 separator.
func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	h ^= 0
	h *= fnvPrime
	return h
}

// mix is splitmix64's finalizer: FNV of names that differ in their last
// bytes differs little in its high bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
