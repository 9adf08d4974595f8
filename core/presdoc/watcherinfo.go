package presdoc

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Watcher is one subscription to a resource, as RFC 3858 reports it.
type Watcher struct {
	ID                 string // unique per subscription; Compose derives one from URI if empty
	URI                string // the watcher
	Status             string // pending, active, waiting or terminated
	Event              string // subscribe, approved, deactivated, probation, rejected, timeout, giveup or noresource
	DurationSubscribed int    // seconds; written when positive
	DisplayName        string
}

var (
	watcherStatuses = map[string]bool{"pending": true, "active": true, "waiting": true, "terminated": true}
	watcherEvents   = map[string]bool{
		"subscribe": true, "approved": true, "deactivated": true, "probation": true,
		"rejected": true, "timeout": true, "giveup": true, "noresource": true,
	}
)

// ComposeWatcherInfo writes an application/watcherinfo+xml document
// (RFC 3858) listing the presence watchers of resource: state "full" or
// "partial", version as given (the caller numbers documents within a
// subscription, starting at 0). A watcher with an invalid status is written
// as pending, with an invalid event as subscribe.
func ComposeWatcherInfo(resource string, version int, full bool, watchers []Watcher) []byte {
	state := "partial"
	if full {
		state = "full"
	}
	w := newWriter()
	w.open("watcherinfo", "xmlns", nsWinfo, "version", strconv.Itoa(max(version, 0)), "state", state)
	w.open("watcher-list", "resource", resource, "package", "presence")
	for _, x := range watchers {
		id := x.ID
		if id == "" {
			h := fnv.New32a()
			h.Write([]byte(x.URI))
			id = fmt.Sprintf("w%08x", h.Sum32())
		}
		status, event := x.Status, x.Event
		if !watcherStatuses[status] {
			status = "pending"
		}
		if !watcherEvents[event] {
			event = "subscribe"
		}
		var dur string
		if x.DurationSubscribed > 0 {
			dur = strconv.Itoa(x.DurationSubscribed)
		}
		w.leaf("watcher", x.URI, "id", id, "status", status, "event", event,
			"duration-subscribed", dur, "display-name", x.DisplayName)
	}
	w.close("watcher-list")
	w.close("watcherinfo")
	return w.bytes()
}

// ParseWatcherInfo reads an application/watcherinfo+xml document: the
// resource of its first watcher list, its version, and the watchers of
// every list. Required attributes must be present and valid. Errors wrap
// ErrMalformed or ErrTooLarge.
func ParseWatcherInfo(body []byte) (resource string, version int, watchers []Watcher, err error) {
	root, err := parseTree(body, listLimits)
	if err != nil {
		return "", 0, nil, err
	}
	if !root.is(nsWinfo, "watcherinfo") {
		return "", 0, nil, malformed("root is {%s}%s, want {%s}watcherinfo", root.space, root.local, nsWinfo)
	}
	v, _ := root.attr("version")
	version, err = strconv.Atoi(strings.TrimSpace(v))
	if err != nil || version < 0 {
		return "", 0, nil, malformed("watcherinfo version %q", v)
	}
	if s, _ := root.attr("state"); s != "full" && s != "partial" {
		return "", 0, nil, malformed("watcherinfo state %q", s)
	}
	first := true
	for _, list := range root.kids {
		if !list.is(nsWinfo, "watcher-list") {
			continue
		}
		res, ok1 := list.attr("resource")
		_, ok2 := list.attr("package")
		if !ok1 || !ok2 {
			return "", 0, nil, malformed("watcher-list without resource or package")
		}
		if first {
			resource, first = res, false
		}
		for _, n := range list.kids {
			if !n.is(nsWinfo, "watcher") {
				continue
			}
			x, err := parseWatcher(n)
			if err != nil {
				return "", 0, nil, err
			}
			watchers = append(watchers, x)
		}
	}
	return resource, version, watchers, nil
}

func parseWatcher(n *node) (Watcher, error) {
	x := Watcher{URI: n.trimmed()}
	x.ID, _ = n.attr("id")
	x.Status, _ = n.attr("status")
	x.Event, _ = n.attr("event")
	x.DisplayName, _ = n.attr("display-name")
	switch {
	case x.ID == "":
		return x, malformed("watcher without id")
	case !watcherStatuses[x.Status]:
		return x, malformed("watcher status %q", x.Status)
	case !watcherEvents[x.Event]:
		return x, malformed("watcher event %q", x.Event)
	case x.URI == "":
		return x, malformed("watcher without URI")
	}
	if d, ok := n.attr("duration-subscribed"); ok {
		v, err := strconv.Atoi(strings.TrimSpace(d))
		if err != nil || v < 0 {
			return x, malformed("watcher duration-subscribed %q", d)
		}
		x.DurationSubscribed = v
	}
	return x, nil
}
