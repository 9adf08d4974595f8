package pstn

import (
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strings"
)

// Choice is one gateway of a route decision, and why it is there.
type Choice struct {
	Trunk    string
	Route    string // the route that brought it
	Usage    string // the caller's usage that route served
	Priority int    // the route's priority
	Match    string // the route's prefix or pattern
	Weighted bool   // drawn from a weighted list
	Down     bool   // reported down: demoted to the end
	Called   string // the called number as the trunk wants it
	Calling  string // the caller's number as the trunk wants it ("" if none)
	// AssertIdentity: send P-Asserted-Identity (a trusted trunk asking for it).
	AssertIdentity bool
	Privacy        string // the trunk's privacy mode (PrivacyID: From anonymised)
	Failover       FailoverPolicy
}

// Reason says why the gateway is where it is.
func (c Choice) Reason() string {
	var b strings.Builder
	fmt.Fprintf(&b, "route %q (usage %q, priority %d, match %s)", c.Route, c.Usage, c.Priority, c.Match)
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

// candidate is a matching route during a decision.
type candidate struct {
	r     *route
	rank  int // the usage's position in the caller's policy
	usage string
	depth int // digits of the route's prefix (specificity)
	order int // the route's position in the document
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
			rank, usage := -1, ""
			for _, us := range r.Usages {
				if k, ok := po.rank[strings.ToLower(us)]; ok && (rank < 0 || k < rank) {
					rank, usage = k, po.usages[k]
				}
			}
			if rank >= 0 {
				cands = append(cands, candidate{r: r, rank: rank, usage: usage, depth: depth, order: int(i)})
			}
		}
	})
	if len(cands) == 0 {
		return d, fmt.Errorf("pstn: %s: no route of policy %q matches %s: %w", caller, po.name, number, ErrNoRoute)
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		switch {
		case a.rank != b.rank:
			return a.rank < b.rank
		case a.r.Priority != b.r.Priority:
			return a.r.Priority < b.r.Priority
		case a.depth != b.depth:
			return a.depth > b.depth
		}
		return a.order < b.order
	})
	calling := ""
	if len(u.numbers) > 0 {
		calling = u.numbers[0]
	}
	var down []Choice
	seen := make(map[string]bool, 8)
	for _, c := range cands {
		for _, m := range pl.members(c.r, callID) {
			key := strings.ToLower(m)
			if seen[key] {
				continue
			}
			seen[key] = true
			t := pl.trunks[key]
			if t.State == Disabled || t.State == Draining {
				d.Skipped = append(d.Skipped, Skip{Trunk: t.Name, Route: c.r.Name, Why: t.State})
				continue
			}
			ch := Choice{
				Trunk: t.Name, Route: c.r.Name, Usage: c.usage, Priority: c.r.Priority, Match: c.r.Prefix + c.r.Pattern,
				Weighted: c.r.Gateways.Mode == Weighted, Called: t.called.Outward(number),
				AssertIdentity: t.Trusted && t.CallerID.AssertIdentity, Privacy: t.CallerID.Privacy, Failover: t.failover,
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

// members returns a route's trunks in the order of this call.
func (pl *Plan) members(r *route, callID string) []string {
	out := make([]string, len(r.Gateways.Members))
	if r.Gateways.Mode != Weighted {
		for i, m := range r.Gateways.Members {
			out[i] = m.Trunk
		}
		return out
	}
	// Efraimidis-Spirakis: key -ln(u)/w, smallest first; u from a hash of
	// the Call-ID and the trunk, so the order is the same per call.
	keys := make([]float64, len(out))
	idx := make([]int, len(out))
	for i, m := range r.Gateways.Members {
		h := fnv.New64a()
		h.Write([]byte(callID))
		h.Write([]byte{0})
		h.Write([]byte(r.Name))
		h.Write([]byte{0})
		h.Write([]byte(m.Trunk))
		u := (float64(mix(h.Sum64())>>11) + 0.5) / (1 << 53)
		keys[i] = -math.Log(u) / float64(m.Weight)
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	for i, j := range idx {
		out[i] = r.Gateways.Members[j].Trunk
	}
	return out
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
