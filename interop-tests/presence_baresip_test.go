//go:build interop

package interop

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// baresip 1.0's presence module (Debian's baresip-core, modules/presence):
//
//   - It subscribes (Event: presence, Expires 600) to every address-book
//     entry carrying ;presence=p2p, starting 1 s after it loads, through the
//     account's outbound proxy; after a failed SUBSCRIBE it waits 30 s, then
//     300 s, before trying again.
//   - It publishes only when the account has ;pubint=SECONDS: <basic>open</basic>
//     with an empty <rpid:activities/> once registered, closed on
//     /presence_offline (key ']'), open again on /presence_online (key '['),
//     and on /quit a PUBLISH with Expires: 0 (plus the un-REGISTER).
//     It cannot publish busy or away.
//   - Reading a NOTIFY (modules/presence/subscriber.c), it takes the FIRST <basic> it finds (open: Online,
//     anything else: Offline), then <rpid:away/> makes it Offline (!),
//     <rpid:busy/> or <rpid:on-the-phone/> Busy. It shows the result in
//     /contacts ("Online", "Offline", "Busy", "Unknown" before any NOTIFY).
//
// So a baresip watcher shows parleyd's busy and do-not-disturb as Busy,
// away and be-right-back as Offline, in-a-meeting as Online.

var ansiRx = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// contactStatus asks baresip for /contacts and returns the status it
// prints for uri ("Online", "Offline", "Busy", "Unknown"), "" if none.
func (b *baresip) contactStatus(uri string) string {
	b.t.Helper()
	before, _ := os.ReadFile(b.out)
	b.command("/contacts")
	rx := regexp.MustCompile(`(Unknown|Online|Offline|Busy)\s+[^\n]*<` + regexp.QuoteMeta(uri) + `>`)
	for i := 0; i < 20; i++ {
		time.Sleep(50 * time.Millisecond)
		all, _ := os.ReadFile(b.out)
		if len(all) < len(before) {
			break
		}
		if m := rx.FindStringSubmatch(ansiRx.ReplaceAllString(string(all[len(before):]), "")); m != nil {
			return m[1]
		}
	}
	return ""
}

// waitContactStatus polls /contacts until uri shows want.
func (b *baresip) waitContactStatus(uri, want string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	last := ""
	for time.Now().Before(deadline) {
		if last = b.contactStatus(uri); last == want {
			return nil
		}
		select {
		case <-b.done:
			return fmt.Errorf("baresip %s exited", b.user)
		default:
		}
		time.Sleep(300 * time.Millisecond)
	}
	return fmt.Errorf("baresip %s shows %s as %q after %v, want %q; output tail:\n%s",
		b.user, uri, last, limit, want, tailFile(b.out, 4<<10))
}

// TestBaresipPresence: two baresip instances with the presence module
// watch each other through parleyd's presence agent: each sees the other
// Online; bob's /presence_offline and /presence_online reach alice; a
// second "device" of bob (the Go UA) publishing busy and away is shown as
// baresip maps them (Busy, and Offline for away); when bob quits, alice
// sees him Offline.
func TestBaresipPresence(t *testing.T) {
	p := startParleyd(t)
	p.addUser("alice", "secret")
	p.addUser("bob", "secret")
	opts := baresipOptions{modules: []string{"presence.so"}, accountParams: ";pubint=600"}
	bob := startBaresipWith(t, p, "bob", opts, `"Alice" <sip:alice@localhost>;presence=p2p`)
	alice := startBaresipWith(t, p, "alice", opts, `"Bob" <sip:bob@localhost>;presence=p2p`)
	const aliceURI, bobURI = "sip:alice@localhost", "sip:bob@localhost"

	step := func(what string, b *baresip, uri, want string) {
		t.Helper()
		if err := b.waitContactStatus(uri, want, 10*time.Second); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	step("both registered and published", alice, bobURI, "Online")
	step("both registered and published", bob, aliceURI, "Online")

	bob.command("/presence_offline")
	step("bob /presence_offline", alice, bobURI, "Offline")
	bob.command("/presence_online")
	step("bob /presence_online", alice, bobURI, "Online")

	// A second device of bob publishes busy: busy beats bob's online
	// publication (docs/presence.md, Aggregation).
	dev := newSipUA(t, p.sipAddr(), "bob", "secret")
	etag := dev.mustPublish(levelNamed(t, "busy").pidf("bob"), "", 600)
	step("bob's second device busy", alice, bobURI, "Busy")
	etag = dev.mustPublish(levelNamed(t, "away").pidf("bob"), etag, 600)
	// Away beats nothing but offline: bob's baresip (online) decides again.
	step("bob's second device away, baresip online", alice, bobURI, "Online")
	etag = dev.mustPublish(levelNamed(t, "do-not-disturb").pidf("bob"), etag, 600)
	step("bob's second device do-not-disturb", alice, bobURI, "Busy")
	if res, err := dev.publish("", etag, 0); err != nil || res.Code != 200 {
		t.Fatalf("removing the second device's publication: %v %v", err, res)
	}
	step("second device gone", alice, bobURI, "Online")

	// Bob quits: baresip removes its publication and its binding.
	bob.quit()
	if err := p.waitBinding("bob", bob.port, false, 5*time.Second); err != nil {
		t.Error(err)
	}
	step("bob quit", alice, bobURI, "Offline")
	if out, _ := os.ReadFile(alice.out); strings.Contains(string(out), "presence: subscriber closed") {
		t.Errorf("alice's subscription to bob was closed at some point:\n%s", tailFile(alice.out, 4<<10))
	}
}

// TestBaresipPresenceWithoutPublish: bob's baresip registers but does not
// publish (no pubint); parleyd shows a registered user who never published
// as online, and alice's baresip must read it so. It reads the first
// <basic> of the document, so this fails while parleyd puts a closed
// tuple first (see TestPresenceRegisteredNeverPublished).
func TestBaresipPresenceWithoutPublish(t *testing.T) {
	p := startParleyd(t)
	p.addUser("alice", "secret")
	p.addUser("bob", "secret")
	startBaresipWith(t, p, "bob", baresipOptions{modules: []string{"presence.so"}})
	alice := startBaresipWith(t, p, "alice", baresipOptions{modules: []string{"presence.so"}},
		`"Bob" <sip:bob@localhost>;presence=p2p`)
	if err := alice.waitContactStatus("sip:bob@localhost", "Online", 6*time.Second); err != nil {
		t.Fatalf("SERVER BUG (closed tuple before the open one for a registered, never-published user): %v", err)
	}
}
