package presence

import (
	"sync"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/presdoc"
)

// parsed caches parsed publications by ETag (an ETag names one body).
var parsed sync.Map // etag -> *presdoc.Document

// parsedDoc is p's document, parsed once per ETag; false when its body
// does not parse.
func parsedDoc(p state.Publication) (*presdoc.Document, bool) {
	if doc, ok := parsed.Load(p.ETag); ok {
		return doc.(*presdoc.Document), true
	}
	d, err := presdoc.Parse(p.Body)
	if err != nil {
		return nil, false
	}
	parsed.Store(p.ETag, d)
	return d, true
}

// Level returns a user's composed availability and PIDF document: every
// live publication aggregated, then the automatic rules (no registered
// endpoint: offline; a calendar entry now: in a meeting). A registered
// user who never published is online. An outside presentity has no
// registrations or calendar here: its level is what its gateway
// published, offline when nothing is.
func (a *Agent) Level(aor string) (presdoc.Availability, []byte) {
	nowS := a.now().Unix()
	var pubs []presdoc.Publication
	for _, p := range a.st.Publications(aor) {
		if p.Expires <= nowS {
			continue
		}
		doc, ok := parsedDoc(p)
		if !ok {
			continue
		}
		pubs = append(pubs, presdoc.Publication{ETag: p.ETag, Doc: doc, Updated: time.Unix(0, p.Updated), Manual: p.Manual})
	}
	level, doc := presdoc.Aggregate(pubs)
	if a.ours(aor) { // registrations and calendar speak for our users only
		registered := len(a.loc.Current(aor)) > 0
		if len(pubs) == 0 && registered {
			// Nothing published: the aggregate's closed tuple would contradict
			// the registration (baresip reads only the first <basic>).
			level, doc = presdoc.Online, presdoc.Document{}
		}
		level = presdoc.Override(level, a.inMeeting(aor, nowS), !registered)
	}
	note := ""
	if len(doc.Notes) > 0 {
		note = doc.Notes[0] // Compose replaces it if it names another level
	}
	return level, presdoc.Compose("pres:"+aor, level, doc.Tuples, note)
}

func (a *Agent) inMeeting(aor string, nowS int64) bool {
	for _, e := range a.st.Calendar(aor) {
		if e.From <= nowS && nowS < e.To {
			return true
		}
	}
	return false
}

// body is the NOTIFY payload of sub.
func (a *Agent) body(sub state.Subscription) (string, []byte) {
	if sub.List {
		return a.listBody(sub)
	}
	if sub.Event == EventWinfo {
		return "application/watcherinfo+xml", presdoc.ComposeWatcherInfo("sip:"+sub.Target, a.winfoVersion(sub), true, a.watchers(sub.Target))
	}
	if a.authorize(sub.Watcher, sub.Target) == block {
		return pidfType, presdoc.Compose("pres:"+sub.Target, presdoc.Offline, nil, "")
	}
	_, doc := a.Level(sub.Target)
	return pidfType, doc
}

// watchers lists the presence subscriptions to target for watcher info.
func (a *Agent) watchers(target string) []presdoc.Watcher {
	var out []presdoc.Watcher
	nowS := a.now().Unix()
	for _, s := range a.st.SubscriptionsTo(target) {
		if s.Event != EventPresence {
			continue
		}
		out = append(out, presdoc.Watcher{
			ID: s.ID, URI: "sip:" + s.Watcher, Status: s.Status, Event: "subscribe",
			DurationSubscribed: int(nowS - s.Created/1e9),
		})
	}
	return out
}

// winfoVersion numbers watcher-info documents like NOTIFY CSeqs: always
// growing within the subscription, across restarts too.
func (a *Agent) winfoVersion(sub state.Subscription) int {
	return int(a.nextCSeq(state.Subscription{ID: sub.ID + "#winfo", Created: sub.Created}))
}
