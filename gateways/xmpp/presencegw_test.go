package xmpp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/parley-rtc/parley/core/presdoc"
	"github.com/parley-rtc/parley/plugins/sdk"
	"github.com/parley-rtc/parley/plugins/sdk/sdktest"
)

// pubHost is a presence host: sdktest's key/value store and a record of
// every publication with the ETag it replaced.
type pubHost struct {
	*sdktest.MemHost
	mu   sync.Mutex
	n    int
	pubs chan publication
}

type publication struct {
	aor, body, prev, etag string
	expires               time.Duration
}

func (h *pubHost) PublishPresence(_ context.Context, aor, pidf string, expires time.Duration, etag string) (string, error) {
	h.mu.Lock()
	h.n++
	tag := fmt.Sprintf("e%d", h.n)
	h.mu.Unlock()
	h.pubs <- publication{aor: aor, body: pidf, prev: etag, etag: tag, expires: expires}
	return tag, nil
}

func (h *pubHost) next(t *testing.T) publication {
	t.Helper()
	select {
	case p := <-h.pubs:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("nothing published")
		return publication{}
	}
}

func (h *pubHost) none(t *testing.T) {
	t.Helper()
	select {
	case p := <-h.pubs:
		t.Fatalf("published %+v, want nothing", p)
	default:
	}
}

func (h *pubHost) pair(t *testing.T, contact, ours string) pairState {
	t.Helper()
	v, ok, _ := h.KVGet(context.Background(), kvSubPrefix+contact+"/"+ours)
	var st pairState
	if ok {
		if err := json.Unmarshal(v, &st); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// presenceGateway is a test gateway with its presence worker running.
func presenceGateway(t *testing.T) (*Gateway, *fakeLink, *pubHost, *presenceGW) {
	g, link, _ := testGateway(t, testConfig(), 200)
	host := &pubHost{MemHost: sdktest.NewMemHost(), pubs: make(chan publication, 64)}
	p := g.installPresence(host)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.run(ctx, link) }()
	t.Cleanup(func() { cancel(); <-done })
	return g, link, host, p
}

// settle waits until the worker has done everything queued so far.
func (p *presenceGW) settle() {
	done := make(chan struct{})
	p.queue <- func(context.Context) { close(done) }
	<-done
}

func noStanza(t *testing.T, link *fakeLink) {
	t.Helper()
	select {
	case s := <-link.got:
		t.Fatalf("sent %s, want nothing", s)
	default:
	}
}

// TestPresenceXMPPToSIP: a contact's presence per resource becomes one
// publication for its SIP address, replaced by ETag, with the level of
// the presence table; repeats publish nothing; the last resource going
// publishes offline and is forgotten.
func TestPresenceXMPPToSIP(t *testing.T) {
	g, link, host, p := presenceGateway(t)
	if out := handle(t, g, `<presence from="juliet@xmpp.test/balcony" to="alice@gw.test"><show>dnd</show><status>In a meeting: budget</status><priority>5</priority></presence>`); out != "" {
		t.Fatalf("answered %s", out)
	}
	pub := host.next(t)
	if pub.aor != "juliet@xmpp.test" || pub.prev != "" || pub.expires != publishExpiry {
		t.Fatalf("publication %+v", pub)
	}
	doc, err := presdoc.Parse([]byte(pub.body))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Availability() != presdoc.InAMeeting || !strings.Contains(pub.body, "budget") || !strings.Contains(pub.body, "sip:juliet@xmpp.test;gr=balcony") {
		t.Fatalf("level %v, body:\n%s", doc.Availability(), pub.body)
	}
	// The same presence again (a copy for another of our users): nothing.
	handle(t, g, `<presence from="juliet@xmpp.test/balcony" to="bob@gw.test"><show>dnd</show><status>In a meeting: budget</status><priority>5</priority></presence>`)
	p.settle()
	host.none(t)
	// A second resource: two tuples, replacing the first publication.
	handle(t, g, `<presence from="juliet@xmpp.test/garden" to="alice@gw.test"/>`)
	pub2 := host.next(t)
	if pub2.prev != pub.etag || strings.Count(pub2.body, "<tuple") != 2 {
		t.Fatalf("second publication %+v", pub2)
	}
	handle(t, g, `<presence from="juliet@xmpp.test/balcony" to="alice@gw.test" type="unavailable"/>`)
	pub3 := host.next(t)
	if d, _ := presdoc.Parse([]byte(pub3.body)); d.Availability() != presdoc.Online || strings.Count(pub3.body, "<tuple") != 1 || pub3.prev != pub2.etag {
		t.Fatalf("after balcony left: %+v", pub3)
	}
	handle(t, g, `<presence from="juliet@xmpp.test/garden" to="alice@gw.test" type="unavailable"><status>gone</status></presence>`)
	pub4 := host.next(t)
	if d, _ := presdoc.Parse([]byte(pub4.body)); d.Availability() != presdoc.Offline || pub4.prev != pub3.etag {
		t.Fatalf("after the last resource left: %+v", pub4)
	}
	if p.known(mustJID(t, "juliet@xmpp.test")) {
		t.Fatal("an offline contact is still held")
	}
	// The ETag survives in the key/value store (a new instance replaces
	// the publication instead of adding one).
	if v, ok, _ := host.KVGet(context.Background(), kvETagPrefix+"juliet@xmpp.test"); !ok || string(v) != pub4.etag {
		t.Fatalf("stored etag %q %v, want %s", v, ok, pub4.etag)
	}
	handle(t, g, `<presence from="juliet@xmpp.test/phone" to="alice@gw.test"><show>away</show></presence>`)
	if pub5 := host.next(t); pub5.prev != pub4.etag {
		t.Fatalf("after coming back: %+v", pub5)
	}
	// Not from one of the XMPP domains, or not to one of our users: ignored.
	handle(t, g, `<presence from="mallory@evil.test/x" to="alice@gw.test"/>`)
	handle(t, g, `<presence from="juliet@xmpp.test/x" to="gw.test"/>`)
	p.settle()
	host.none(t)
	noStanza(t, link)
}

// TestPresenceRefresh: a publication close to its expiry is refreshed
// with its ETag; an offline one is not.
func TestPresenceRefresh(t *testing.T) {
	g, _, host, p := presenceGateway(t)
	var offset atomic.Int64
	base := time.Now()
	g.now = func() time.Time { return base.Add(time.Duration(offset.Load())) } // before any work is queued
	handle(t, g, `<presence from="juliet@xmpp.test/balcony" to="alice@gw.test"/>`)
	first := host.next(t)
	handle(t, g, `<presence from="romeo@xmpp.test/r" to="alice@gw.test" type="unavailable"/>`)
	host.next(t) // romeo: offline
	p.queue <- p.refresh
	p.settle()
	host.none(t)
	offset.Store(int64(publishExpiry - refreshBefore + time.Second))
	p.queue <- p.refresh
	ref := host.next(t)
	if ref.prev != first.etag || ref.body != first.body || ref.aor != "juliet@xmpp.test" {
		t.Fatalf("refresh %+v, want juliet's body with etag %s", ref, first.etag)
	}
	p.settle()
	host.none(t)
}

// TestWatchersSubscriptions: our watcher of a contact becomes an XMPP
// subscription request, kept as RFC 6121 state in the key/value store;
// the contact's answers update it; a subscribe from the contact (an
// auto-subscribing client) is recorded, never answered with ours; the
// watcher gone unsubscribes.
func TestWatchersSubscriptions(t *testing.T) {
	g, link, host, p := presenceGateway(t)
	exp := time.Now().Add(time.Hour)
	g.onWatchers(context.Background(), "juliet@xmpp.test", []sdk.Watcher{
		{ID: "d1", Watcher: "alice@gw.test", Status: "active", Expires: exp},
		{ID: "d2", Watcher: "carol@other.test", Status: "active", Expires: exp}, // not the component's domain
	})
	s := link.next(t)
	for _, w := range []string{`type="subscribe"`, `from="alice@gw.test"`, `to="juliet@xmpp.test"`} {
		if !strings.Contains(s, w) {
			t.Fatalf("stanza %s lacks %s", s, w)
		}
	}
	p.settle()
	noStanza(t, link)
	if st := host.pair(t, "juliet@xmpp.test", "alice@gw.test"); st.Out != subPending {
		t.Fatalf("state %+v, want out pending", st)
	}
	// The same list again (a refresh): nothing sent.
	g.onWatchers(context.Background(), "juliet@xmpp.test", []sdk.Watcher{{ID: "d1", Watcher: "alice@gw.test", Status: "active", Expires: exp}})
	p.settle()
	noStanza(t, link)

	// slixmpp's answer: subscribed, then its own subscribe. Several
	// rounds of it produce no stanza from the gateway.
	for i := 0; i < 3; i++ {
		for _, raw := range []string{
			`<presence from="juliet@xmpp.test" to="alice@gw.test" type="subscribed"/>`,
			`<presence from="juliet@xmpp.test" to="alice@gw.test" type="subscribe"/>`,
		} {
			if out := handle(t, g, raw); out != "" {
				t.Fatalf("answered %s", out)
			}
		}
	}
	p.settle()
	noStanza(t, link)
	if st := host.pair(t, "juliet@xmpp.test", "alice@gw.test"); st.Out != subYes || st.In != subPending {
		t.Fatalf("state %+v, want out yes, in pending", st)
	}
	// Unsolicited subscribed for a pair never requested: ignored.
	handle(t, g, `<presence from="romeo@xmpp.test" to="alice@gw.test" type="subscribed"/>`)
	p.settle()
	if st := host.pair(t, "romeo@xmpp.test", "alice@gw.test"); st.Out != subNone {
		t.Fatalf("romeo: %+v", st)
	}

	// A new instance (lease move) reads the approved pair and probes.
	p.queue <- p.resync
	if s := link.next(t); !strings.Contains(s, `type="probe"`) || !strings.Contains(s, `to="juliet@xmpp.test"`) {
		t.Fatalf("resync sent %s", s)
	}

	// The watcher goes: unsubscribe; the contact's side stays pending.
	g.onWatchers(context.Background(), "juliet@xmpp.test", nil)
	if s := link.next(t); !strings.Contains(s, `type="unsubscribe"`) || !strings.Contains(s, `from="alice@gw.test"`) {
		t.Fatalf("sent %s, want unsubscribe", s)
	}
	if st := host.pair(t, "juliet@xmpp.test", "alice@gw.test"); st.Out != subNone || st.In != subPending {
		t.Fatalf("state %+v", st)
	}
	handle(t, g, `<presence from="juliet@xmpp.test" to="alice@gw.test" type="unsubscribe"/>`)
	p.settle()
	if _, ok, _ := host.KVGet(context.Background(), kvSubPrefix+"juliet@xmpp.test/alice@gw.test"); ok {
		t.Fatal("an empty pair is still stored")
	}
	noStanza(t, link)
}

// TestWatchersRefused: the contact refuses (unsubscribed) or the server
// cannot deliver (error): the pair goes back to none, and the next
// watcher list asks again.
func TestWatchersRefused(t *testing.T) {
	for _, typ := range []string{"unsubscribed", "error"} {
		t.Run(typ, func(t *testing.T) {
			g, link, host, p := presenceGateway(t)
			ws := []sdk.Watcher{{ID: "d1", Watcher: "alice@gw.test", Status: "active"}}
			g.onWatchers(context.Background(), "juliet@xmpp.test", ws)
			link.next(t)
			handle(t, g, `<presence from="juliet@xmpp.test" to="alice@gw.test" type="`+typ+`"/>`)
			p.settle()
			if st := host.pair(t, "juliet@xmpp.test", "alice@gw.test"); st.Out != subNone {
				t.Fatalf("state %+v", st)
			}
			g.onWatchers(context.Background(), "juliet@xmpp.test", ws)
			if s := link.next(t); !strings.Contains(s, `type="subscribe"`) {
				t.Fatalf("sent %s", s)
			}
		})
	}
}

func mustJID(t *testing.T, s string) jid.JID {
	t.Helper()
	j, err := ParseJID(s)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestWatchersWhileLinkDown: a watcher list that arrives before the
// component link is up (the lists the node sends when the plugin starts)
// is mirrored when the link comes up.
func TestWatchersWhileLinkDown(t *testing.T) {
	g, link, host, p := presenceGateway(t)
	link.mu.Lock()
	link.up = false
	link.mu.Unlock()
	g.onWatchers(context.Background(), "juliet@xmpp.test", []sdk.Watcher{{ID: "d1", Watcher: "alice@gw.test", Status: "active"}})
	p.settle()
	if st := host.pair(t, "juliet@xmpp.test", "alice@gw.test"); st.Out != subNone {
		t.Fatalf("state %+v while nothing could be sent", st)
	}
	link.mu.Lock()
	link.up = true
	link.mu.Unlock()
	p.queue <- p.resync
	if s := link.next(t); !strings.Contains(s, `type="subscribe"`) || !strings.Contains(s, `from="alice@gw.test"`) {
		t.Fatalf("sent %s", s)
	}
	p.settle()
	noStanza(t, link)
	if st := host.pair(t, "juliet@xmpp.test", "alice@gw.test"); st.Out != subPending {
		t.Fatalf("state %+v", st)
	}
}
