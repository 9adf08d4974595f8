package presdoc

import (
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

var sampleWatchers = []Watcher{
	{ID: "c1;f;t", URI: "sip:bob@example.com", Status: "active", Event: "approved", DurationSubscribed: 509},
	{ID: "w2", URI: "sip:carol@example.com", Status: "pending", Event: "subscribe", DisplayName: `Carol "C" O'Neil & <co>`},
	{ID: "w3", URI: "sip:dave@example.com", Status: "terminated", Event: "rejected"},
	{ID: "w4", URI: "sip:erin@example.com", Status: "waiting", Event: "timeout"},
}

func TestWatcherInfoGolden(t *testing.T) {
	for _, g := range goldens(t, "winfo/*.txt") {
		t.Run(g.path, func(t *testing.T) {
			var resource string
			var version int
			var full bool
			for _, line := range strings.Split(strings.TrimSpace(string(g.input)), "\n") {
				key, val, _ := strings.Cut(line, ": ")
				switch key {
				case "resource":
					resource = val
				case "version":
					version, _ = strconv.Atoi(val)
				case "state":
					full = val == "full"
				}
			}
			out := ComposeWatcherInfo(resource, version, full, sampleWatchers)
			g.check(t, out)
			wellFormed(t, out)
		})
	}
}

func TestWatcherInfoRoundTrip(t *testing.T) {
	for _, full := range []bool{true, false} {
		res, version, ws, err := ParseWatcherInfo(ComposeWatcherInfo("sip:alice@example.com", 12, full, sampleWatchers))
		if err != nil {
			t.Fatal(err)
		}
		if res != "sip:alice@example.com" || version != 12 || !reflect.DeepEqual(ws, sampleWatchers) {
			t.Errorf("got %q %d %+v", res, version, ws)
		}
	}
	// Empty lists and defaults.
	out := ComposeWatcherInfo("sip:a@b", -3, true, []Watcher{{URI: "sip:x@y", Status: "bogus", Event: ""}})
	_, version, ws, err := ParseWatcherInfo(out)
	if err != nil || version != 0 || len(ws) != 1 {
		t.Fatalf("%v %d %+v", err, version, ws)
	}
	if w := ws[0]; w.Status != "pending" || w.Event != "subscribe" || !strings.HasPrefix(w.ID, "w") || len(w.ID) != 9 {
		t.Errorf("defaults: %+v", w)
	}
	if _, _, ws, err := ParseWatcherInfo(ComposeWatcherInfo("sip:a@b", 1, false, nil)); err != nil || len(ws) != 0 {
		t.Errorf("empty list: %v %v", ws, err)
	}
}

func TestParseWatcherInfoRFC(t *testing.T) {
	body, err := os.ReadFile("testdata/winfo/rfc3858.xml")
	if err != nil {
		t.Fatal(err)
	}
	res, version, ws, err := ParseWatcherInfo(body)
	if err != nil {
		t.Fatal(err)
	}
	want := []Watcher{
		{ID: "8ajksjda7s", URI: "sip:userA@example.net", Status: "active", Event: "approved", DurationSubscribed: 509},
		{ID: "hh8juja87s997-ass7", URI: "sip:userB@example.org", Status: "pending", Event: "subscribe", DisplayName: "Mr. Subscriber"},
	}
	if res != "sip:professor@example.net" || version != 0 || !reflect.DeepEqual(ws, want) {
		t.Errorf("got %q %d %+v", res, version, ws)
	}
}

func TestParseWatcherInfoRejects(t *testing.T) {
	const head = `<watcherinfo xmlns="urn:ietf:params:xml:ns:watcherinfo" version="1" state="full"><watcher-list resource="sip:a@b" package="presence">`
	const tail = `</watcher-list></watcherinfo>`
	cases := map[string]struct {
		body string
		want error
	}{
		"wrong namespace":    {`<watcherinfo version="1" state="full"/>`, ErrMalformed},
		"pidf":               {`<presence xmlns="urn:ietf:params:xml:ns:pidf"/>`, ErrMalformed},
		"bad version":        {`<watcherinfo xmlns="urn:ietf:params:xml:ns:watcherinfo" version="-1" state="full"/>`, ErrMalformed},
		"no version":         {`<watcherinfo xmlns="urn:ietf:params:xml:ns:watcherinfo" state="full"/>`, ErrMalformed},
		"bad state":          {`<watcherinfo xmlns="urn:ietf:params:xml:ns:watcherinfo" version="1" state="some"/>`, ErrMalformed},
		"list without attrs": {`<watcherinfo xmlns="urn:ietf:params:xml:ns:watcherinfo" version="1" state="full"><watcher-list/></watcherinfo>`, ErrMalformed},
		"watcher no id":      {head + `<watcher status="active" event="approved">sip:x@y</watcher>` + tail, ErrMalformed},
		"watcher bad status": {head + `<watcher id="1" status="happy" event="approved">sip:x@y</watcher>` + tail, ErrMalformed},
		"watcher bad event":  {head + `<watcher id="1" status="active" event="party">sip:x@y</watcher>` + tail, ErrMalformed},
		"watcher no uri":     {head + `<watcher id="1" status="active" event="approved"> </watcher>` + tail, ErrMalformed},
		"bad duration":       {head + `<watcher id="1" status="active" event="approved" duration-subscribed="x">sip:x@y</watcher>` + tail, ErrMalformed},
		"doctype":            {`<!DOCTYPE watcherinfo>` + head + tail, ErrMalformed},
		"too large":          {head + strings.Repeat(" ", MaxListBytes) + tail, ErrTooLarge},
		"ok":                 {head + `<watcher id="1" status="active" event="approved" expiration="60">sip:x@y</watcher><other xmlns="urn:x"/>` + tail, nil},
	}
	for name, c := range cases {
		_, _, _, err := ParseWatcherInfo([]byte(c.body))
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
}
