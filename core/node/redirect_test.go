package node

import (
	"testing"
	"time"

	"github.com/parley-rtc/parley/core/config"
)

func TestNodeRedirects(t *testing.T) {
	for _, recurse := range []bool{false, true} {
		n := startNodeWith(t, func(c *config.Config) { c.RecurseRedirects = recurse })
		for _, u := range []string{"alice", "bob", "carol"} {
			n.addUser(t, u, "pw-"+u)
		}
		alice, bob, carol := newUA(t, "alice"), newUA(t, "bob"), newUA(t, "carol")
		bob.register(t, n, "bob", "pw-bob")
		carol.register(t, n, "carol", "pw-carol")
		to := "sip:carol@localhost"
		bob.redirect.Store(&to) // e.g. bob's after-hours forwarding
		res := alice.message(t, n, "alice", "bob", "pw-alice")
		if !recurse {
			if res.StatusCode != 302 || res.GetHeader("Contact") == nil {
				t.Fatalf("without recursion: %d, want the 302 relayed", res.StatusCode)
			}
			continue
		}
		if res.StatusCode != 200 {
			t.Fatalf("with recursion: %d, want carol's 200", res.StatusCode)
		}
		select {
		case <-carol.got:
		case <-time.After(5 * time.Second):
			t.Fatal("carol got nothing")
		}
	}
}
