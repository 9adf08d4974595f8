package presence

import (
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/presdoc"
	"github.com/parley-rtc/parley/core/siputil"
)

// Resource lists (RFC 4662): a user subscribes to their whole contact
// list at sip:USER+contacts@DOMAIN, or to one group of it at
// sip:USER+GROUP@DOMAIN, and gets one NOTIFY carrying every contact's
// state, as LCS clients did with their batched subscription.

// allContacts is the list name of the whole contact list.
const allContacts = "contacts"

// listOf splits a list AOR ("alice+friends@localhost") into its owner
// ("alice@localhost") and list name; ok is false for a plain AOR.
func listOf(aor string) (owner, list string, ok bool) {
	at := strings.LastIndexByte(aor, '@')
	plus := strings.IndexByte(aor, '+')
	if at < 0 || plus <= 0 || plus > at {
		return "", "", false
	}
	return aor[:plus] + aor[at:], aor[plus+1 : at], true
}

// supportsEventlist reports whether the SUBSCRIBE says Supported: eventlist.
func supportsEventlist(req *sip.Request) bool {
	for _, h := range req.GetHeaders("Supported") {
		for _, v := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(v), "eventlist") {
				return true
			}
		}
	}
	return false
}

// listTarget checks a SUBSCRIBE to a list URI; res is non-nil when it is
// refused.
func (a *Agent) listTarget(r Request, target string) (res *sip.Response) {
	owner, list, _ := listOf(target)
	if u, ok := a.st.User(owner); !ok || !u.Enabled {
		return siputil.Response(r.Req, 404, "Not Found")
	}
	if eventOf(r.Req) != EventPresence {
		return siputil.Response(r.Req, 489, "Bad Event", sip.NewHeader("Allow-Events", EventPresence))
	}
	if !supportsEventlist(r.Req) {
		return siputil.Response(r.Req, 421, "Extension Required", sip.NewHeader("Require", "eventlist"))
	}
	if identity(r) != owner {
		return siputil.Response(r.Req, 403, "Forbidden (a contact list is for its owner only)")
	}
	if list != allContacts && len(a.members(owner, list)) == 0 && !a.hasGroup(owner, list) {
		return siputil.Response(r.Req, 404, "Not Found (no such list)")
	}
	return nil
}

// members returns the contacts of owner's list (the whole list, or one group).
func (a *Agent) members(owner, list string) []state.Contact {
	all := a.st.Contacts(owner)
	if list == allContacts {
		return all
	}
	var out []state.Contact
	for _, c := range all {
		for _, g := range c.Groups {
			if g == list {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func (a *Agent) hasGroup(owner, list string) bool {
	for _, c := range a.st.Contacts(owner) {
		for _, g := range c.Groups {
			if g == list {
				return true
			}
		}
	}
	return false
}

// listBody composes the multipart/related RLMI NOTIFY body: every member
// with the state its own rules let the owner see.
func (a *Agent) listBody(sub state.Subscription) (string, []byte) {
	owner, list, _ := listOf(sub.Target)
	members := a.members(owner, list)
	rs := make([]presdoc.RLMIResource, 0, len(members))
	for _, c := range members {
		r := presdoc.RLMIResource{URI: c.URI, Name: c.Name, State: "active"}
		switch {
		case c.Target == "" || (!a.ours(c.Target) && !a.outside(c.Target)):
			r.State, r.Reason = "terminated", "noresource"
		case a.authorize(owner, c.Target) == pending:
			r.State = "pending"
		case a.authorize(owner, c.Target) == block:
			r.ContentType, r.Body = pidfType, presdoc.Compose("pres:"+c.Target, presdoc.Offline, nil, "")
		default:
			_, doc := a.Level(c.Target)
			r.ContentType, r.Body = pidfType, doc
		}
		rs = append(rs, r)
	}
	body, ctype := presdoc.ComposeList("sip:"+sub.Target, a.winfoVersion(sub), true, rs)
	return ctype, body
}
