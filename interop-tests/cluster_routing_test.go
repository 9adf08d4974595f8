//go:build interop

package interop

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley-rtc/parley/cluster/state"
	"github.com/parley-rtc/parley/core/pipeline"
)

// Cluster routing across parleyd processes (docs/architecture.md,
// "Cluster routing"): home-node routing over the intra-cluster SIP link,
// node loss, and the director role. Every node gets --cluster-sip
// 127.0.0.1:0 (a free port, published in its member entry).

var clusterLink = []string{"--cluster-sip", "127.0.0.1:0"}

// waitUsers waits until every running node knows the users.
func waitUsers(t *testing.T, nodes []*parleyd, users ...string) {
	t.Helper()
	for _, p := range nodes {
		for _, u := range users {
			waitFor(t, 10*time.Second, func() error {
				_, err := p.ctl("user", "show", u)
				return err
			})
		}
	}
}

// bindingHomeOn returns the home of user's binding on port as p sees it.
func bindingHomeOn(p *parleyd, user string, port int) string {
	bs, err := p.bindings(user)
	if err != nil {
		return ""
	}
	for _, b := range bs {
		if strings.Contains(b.Contact, fmt.Sprintf("127.0.0.1:%d", port)) {
			h, _ := b.Raw["home"].(string)
			return h
		}
	}
	return ""
}

// waitHome waits until every running node sees user's binding on port
// homed on home.
func waitHome(t *testing.T, nodes []*parleyd, user string, port int, home string) {
	t.Helper()
	for _, p := range nodes {
		if p.cmd == nil {
			continue
		}
		waitFor(t, 10*time.Second, func() error {
			if got := bindingHomeOn(p, user, port); got != home {
				return fmt.Errorf("%s's binding on %d homed on %q, want %q", user, port, got, home)
			}
			return nil
		})
	}
}

// finalCode is the last final response in a sipp message trace.
func finalCode(msgs string) string {
	all := regexp.MustCompile(`(?m)^SIP/2\.0 ([2-6][0-9][0-9]) `).FindAllStringSubmatch(msgs, -1)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1][1]
}

// messageThrough registers user's sipp UAS on home (node id homeID),
// waits until every node sees that binding, then has from send it a
// MESSAGE through via; both sipps must pass.
func messageThrough(t *testing.T, nodes []*parleyd, home *parleyd, homeID, user, from string, via *parleyd) {
	t.Helper()
	cid := uniqueCallID(t)
	uas := startRegisteredUAS(t, home, "uas_message.xml", user, cid)
	waitHome(t, nodes, user, uas.s.LocalPort, homeID)
	if _, err := runSipp(t, via.sipAddr(), sipp{Name: from + "-to-" + user + "-via-" + fmt.Sprint(via.sipPort), Scenario: "uac_message.xml",
		User: from, Password: "secret", Service: user, CallID: cid}); err != nil {
		t.Fatal(err)
	}
	if err := uas.wait(); err != nil {
		t.Fatal(err)
	}
}

// TestClusterRouting: alice registers on n1, bob on n3. Through n2,
// alice's MESSAGE reaches bob, bob's MESSAGE reaches alice, and alice's
// INVITE/200/ACK/BYE with bob completes (both nodes record-route). Then
// n3 is killed (-9): a MESSAGE to bob through n2 gets 202 (stored); bob registers
// on n2 and is reachable again.
func TestClusterRouting(t *testing.T) {
	nodes := startCluster(t, 3, clusterLink...)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	n1.addUser("alice", "secret")
	n1.addUser("bob", "secret")
	waitUsers(t, nodes, "alice", "bob")

	// alice -> bob (homed on n3) and bob -> alice (homed on n1), through n2.
	messageThrough(t, nodes, n3, "n3", "bob", "alice", n2)
	messageThrough(t, nodes, n1, "n1", "alice", "bob", n2)

	// A call from alice to bob through n2: INVITE, 200, ACK and BYE.
	cid := uniqueCallID(t)
	bobUAS := startRegisteredUAS(t, n3, "uas_invite.xml", "bob", cid)
	waitHome(t, nodes, "bob", bobUAS.s.LocalPort, "n3")
	call, err := runSipp(t, n2.sipAddr(), sipp{Name: "alice-calls-bob", Scenario: "uac_invite.xml", User: "alice",
		Password: "secret", Service: "bob", CallID: cid})
	if err != nil {
		t.Fatal(err)
	}
	if err := bobUAS.wait(); err != nil {
		t.Fatal(err)
	}
	rr := regexp.MustCompile(`(?mi)^Record-Route:.*$`).FindAllString(call.messages(), -1)
	if got := strings.Join(rr, "\n"); !strings.Contains(got, fmt.Sprintf(":%d", n2.sipPort)) || !strings.Contains(got, fmt.Sprintf(":%d", n3.sipPort)) {
		t.Errorf("Record-Route seen by alice:\n%s\nwant n2 (:%d) and n3 (:%d)", got, n2.sipPort, n3.sipPort)
	}

	// n3 dies: bob's bindings are unreachable.
	n3.kill9()
	leaderOf(t, nodes) // writes work again (n3 may have led)
	run, err := runSipp(t, n2.sipAddr(), sipp{Name: "to-bob-n3-dead", Scenario: "uac_message_rejected.xml",
		User: "alice", Password: "secret", Service: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if got := finalCode(run.messages()); got != "202" {
		t.Errorf("MESSAGE to bob with his home node killed: %s, want 202 (stored for his next registration)", got)
	}
	// bob registers on n2: reachable again, through n1.
	messageThrough(t, nodes, n2, "n2", "bob", "alice", n1)
}

// TestClusterRoutesWithJoinAlone: three nodes started as
// docs/operations.md shows, with --join and no --cluster-sip: each
// publishes its link (raft-listen's port + 1), parleyctl cluster status
// shows all three, and alice's MESSAGE and INVITE through n2 reach bob,
// registered on n3.
func TestClusterRoutesWithJoinAlone(t *testing.T) {
	nodes := startCluster(t, 3)
	n2, n3 := nodes[1], nodes[2]
	waitFor(t, 10*time.Second, func() error {
		st, err := n2.clusterStatus()
		if err != nil {
			return err
		}
		for _, m := range st.Members {
			i := map[string]int{"n1": 0, "n2": 1, "n3": 2}[m.ID]
			if want := fmt.Sprintf("sip:127.0.0.1:%d;transport=tcp", nodes[i].raftPort+1); m.SIPAddr != want {
				return fmt.Errorf("%s's link %q, want %q", m.ID, m.SIPAddr, want)
			}
		}
		return nil
	})
	nodes[0].addUser("alice", "secret")
	nodes[0].addUser("bob", "secret")
	waitUsers(t, nodes, "alice", "bob")
	messageThrough(t, nodes, n3, "n3", "bob", "alice", n2)

	cid := uniqueCallID(t)
	bobUAS := startRegisteredUAS(t, n3, "uas_invite.xml", "bob", cid)
	waitHome(t, nodes, "bob", bobUAS.s.LocalPort, "n3")
	if _, err := runSipp(t, n2.sipAddr(), sipp{Name: "alice-calls-bob-join-alone", Scenario: "uac_invite.xml", User: "alice",
		Password: "secret", Service: "bob", CallID: cid}); err != nil {
		t.Fatal(err)
	}
	if err := bobUAS.wait(); err != nil {
		t.Fatal(err)
	}
}

// TestDirectorRedirect: n1 and n2 are home nodes, n3 a director. sipp
// registers at the director, gets 302 with the home node in maddr, and
// registers there: alice where the assignment rule puts her, carol where
// her home override says. A MESSAGE sent through the director reaches
// alice through her home node.
func TestDirectorRedirect(t *testing.T) {
	nodes := startCluster(t, 2, clusterLink...)
	dir := startParleyd(t, append([]string{"--node-id", "n3", "--role", "director", "--join", nodes[1].adminURL()}, clusterLink...)...)
	nodes = append(nodes, dir)
	waitCluster(t, nodes[0], 3, 20*time.Second)
	homes := []state.Member{{ID: "n1", Role: state.RoleHome, SIPListen: "udp://x"}, {ID: "n2", Role: state.RoleHome, SIPListen: "udp://x"}}
	rule, _ := pipeline.AssignHome("alice@"+domain, "", homes, nil)
	carolRule, _ := pipeline.AssignHome("carol@"+domain, "", homes, nil)
	override := map[string]string{"n1": "n2", "n2": "n1"}[carolRule.ID]
	nodes[0].addUser("alice", "secret")
	if _, err := nodes[0].ctl("user", "add", "carol", "--password", "secret", "--home", override); err != nil {
		t.Fatal(err)
	}
	waitUsers(t, nodes, "alice", "carol")
	byID := map[string]*parleyd{"n1": nodes[0], "n2": nodes[1]}
	for _, tc := range []struct{ user, home string }{{"alice", rule.ID}, {"carol", override}} {
		run, err := runSipp(t, dir.sipAddr(), sipp{Name: "director-" + tc.user, Scenario: "director_register.xml",
			User: tc.user, Password: "secret"})
		if err != nil {
			t.Fatal(err)
		}
		contact := regexp.MustCompile(`(?mi)^Contact:.*maddr=.*$`).FindString(run.messages())
		if want := fmt.Sprintf("%s:%d;maddr=127.0.0.1", domain, byID[tc.home].sipPort); !strings.Contains(contact, want) {
			t.Errorf("%s: 302 %q, want the home node %s (%s)", tc.user, contact, tc.home, want)
		}
		waitHome(t, nodes, tc.user, run.s.LocalPort, tc.home)
	}
	// Other requests the director proxies to the home node: carol's
	// MESSAGE to alice (registered at her home node) through it.
	messageThrough(t, nodes, byID[rule.ID], rule.ID, "alice", "carol", dir)
}
