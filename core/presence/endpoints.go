package presence

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/location"
	"github.com/parley-rtc/parley/core/presdoc"
)

// Endpoint availability for routing (docs/architecture.md, "Endpoint
// choice and failover"): a publication whose PIDF tuple names a
// registered contact (<contact>) speaks for that endpoint. EndpointRanks
// turns each binding's published level into a class the location
// service orders bindings of equal q by (lower first); a binding no
// publication names counts as online (it is registered and said
// nothing else).

// Availability classes, best first.
const (
	ClassOnline       int8 = 0                     // online, or nothing published for it
	ClassAway         int8 = 1                     // away, be right back (idle)
	ClassBusy         int8 = 2                     // busy, in a meeting
	ClassDoNotDisturb      = location.DoNotDisturb // do not disturb, or published offline
)

// ClassOf is the class of one published level.
func ClassOf(a presdoc.Availability) int8 {
	switch a {
	case presdoc.Away, presdoc.BeRightBack:
		return ClassAway
	case presdoc.Busy, presdoc.InAMeeting:
		return ClassBusy
	case presdoc.DoNotDisturb, presdoc.Offline:
		return ClassDoNotDisturb
	}
	return ClassOnline
}

// EndpointRanks gives each of aor's bindings its availability class from
// the publications naming its contact; nil when no publication names any
// contact (every endpoint is alike). location.Service.SetRank takes it.
func (a *Agent) EndpointRanks(aor string, bs []state.Binding) []int8 {
	pubs := a.st.Publications(aor)
	if len(pubs) == 0 {
		return nil
	}
	nowS := a.now().Unix()
	type seen struct {
		class   int8
		updated int64
	}
	byContact := map[string]seen{}
	for _, p := range pubs {
		if p.Expires <= nowS {
			continue
		}
		d, ok := parsedDoc(p)
		if !ok {
			continue
		}
		class := ClassOf(d.Availability())
		for _, t := range d.Tuples {
			k := contactKey(t.Contact)
			if k == "" {
				continue
			}
			if old, ok := byContact[k]; !ok || p.Updated > old.updated {
				byContact[k] = seen{class, p.Updated}
			}
		}
	}
	if len(byContact) == 0 {
		return nil
	}
	out := make([]int8, len(bs))
	for i, b := range bs {
		out[i] = byContact[contactKey(b.Contact)].class
	}
	return out
}

// contactKey is user@host:port of a contact URI, what a PIDF <contact>
// and a registered Contact are compared by; "" if it does not parse.
func contactKey(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	var u sip.Uri
	if err := sip.ParseUri(strings.Trim(s, "<>"), &u); err != nil || u.Host == "" {
		return ""
	}
	port := u.Port
	if port == 0 {
		port = 5060
	}
	return u.User + "@" + strings.ToLower(u.Host) + ":" + strconv.Itoa(port)
}
