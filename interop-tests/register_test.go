//go:build interop

package interop

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRegisterDigest: REGISTER -> 401 -> digest -> 200, a refresh on the
// same Call-ID (CSeq+1, nonce reused with nc=2 or re-challenged) -> 200,
// then Expires: 0 removes the binding; parleyctl shows each state.
func TestRegisterDigest(t *testing.T) {
	p := startParleyd(t)
	p.addUser("alice", "secret")
	port := freePort(t)

	if has, bs, err := p.hasBinding("alice", port); err != nil || has {
		t.Fatalf("before REGISTER: binding present=%v (%+v), err %v", has, bs, err)
	}
	if _, err := runSipp(t, p.sipAddr(), sipp{Scenario: "register.xml", User: "alice", Password: "secret",
		LocalPort: port, Keys: map[string]string{"expires": "600"}}); err != nil {
		t.Fatal(err)
	}
	if err := p.waitBinding("alice", port, true, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	bs, err := p.bindings("alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.AOR != "" && b.AOR != "alice@localhost" {
			t.Errorf("binding aor = %q, want alice@localhost", b.AOR)
		}
		if _, ok := b.Raw["expires"]; !ok {
			t.Errorf("binding %+v has no expires field", b.Raw)
		}
	}

	if _, err := runSipp(t, p.sipAddr(), sipp{Scenario: "unregister.xml", User: "alice", Password: "secret",
		LocalPort: port}); err != nil {
		t.Fatal(err)
	}
	if err := p.waitBinding("alice", port, false, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestRegisterWrongPassword: a digest with the wrong password gets 403 and
// creates no binding.
func TestRegisterWrongPassword(t *testing.T) {
	p := startParleyd(t)
	p.addUser("alice", "secret")
	port := freePort(t)
	if _, err := runSipp(t, p.sipAddr(), sipp{Scenario: "register_forbidden.xml", User: "alice",
		Password: "not-the-password", LocalPort: port}); err != nil {
		t.Fatal(err)
	}
	if has, bs, err := p.hasBinding("alice", port); err != nil || has {
		t.Fatalf("after 403: binding present=%v (%+v), err %v", has, bs, err)
	}
}

// TestRestartKeepsState: users and bindings survive SIGTERM and a restart
// on the same data directory and ports, on each raft store, and across the
// migration of a bolt store into the wal (after which bolt is refused).
func TestRestartKeepsState(t *testing.T) {
	bolt := []string{"--raft-store", "bolt"}
	for _, tc := range []struct {
		name          string
		first, second []string // extra flags of the two runs
		migrated      bool
	}{
		{name: "default store"},
		{name: "bolt store", first: bolt, second: bolt},
		{name: "bolt migrated to wal", first: bolt, migrated: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startParleyd(t, tc.first...)
			p.addUser("alice", "secret")
			p.addUser("bob", "secret")
			port := freePort(t)
			if _, err := runSipp(t, p.sipAddr(), sipp{Scenario: "register.xml", User: "alice", Password: "secret",
				LocalPort: port, Keys: map[string]string{"expires": "3600"}}); err != nil {
				t.Fatal(err)
			}
			if err := p.waitBinding("alice", port, true, 5*time.Second); err != nil {
				t.Fatal(err)
			}

			if !p.stop() {
				t.Errorf("parleyd did not exit within %v of SIGTERM (killed)", stopGrace)
			}
			p.extra = tc.second
			p.start()

			out, err := p.ctl("user", "list", "-o", "json")
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range []string{"alice", "bob"} {
				if !strings.Contains(out, `"`+u+`"`) {
					t.Errorf("after restart, user list lacks %s:\n%s", u, out)
				}
			}
			if has, bs, err := p.hasBinding("alice", port); err != nil || !has {
				t.Errorf("after restart: alice's binding on port %d present=%v (%+v), err %v", port, has, bs, err)
			}
			if tc.migrated {
				checkMigrated(t, p)
			}
		})
	}
}

// checkMigrated checks a server that migrated its bolt store: raft.db is
// kept aside, the log says so, new writes work, and a restart on bolt is
// refused with a message naming the store.
func checkMigrated(t *testing.T, p *parleyd) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(p.dataDir, "raft", "raft.db.migrated")); err != nil {
		t.Errorf("raft.db.migrated: %v", err)
	}
	if _, err := os.Stat(filepath.Join(p.dataDir, "raft", "raft.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("raft.db still there (stat: %v)", err)
	}
	if log := tailFile(p.logPath, 1<<20); !strings.Contains(log, "migrated the raft log from raft-boltdb to raft-wal") {
		t.Errorf("no migration record in the log")
	}
	p.addUser("carol", "secret")
	p.stop()
	p.extra = []string{"--raft-store", "bolt"}
	p.launch()
	select {
	case <-p.done:
	case <-time.After(readyTimeout):
		t.Fatal("parleyd on raft-store bolt still runs over a wal data directory")
	}
	if p.waitErr == nil {
		t.Error("parleyd on raft-store bolt exited with status 0")
	}
	if log := tailFile(p.logPath, 8<<10); !strings.Contains(log, "raft-store is bolt but the raft log is in the wal store") {
		t.Errorf("refusal does not explain itself; log tail:\n%s", log)
	}
}
