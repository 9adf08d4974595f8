package router

import (
	"fmt"
	"testing"

	"github.com/parley-rtc/parley/cluster/state"
)

func homes(ids ...string) []state.Member {
	var out []state.Member
	for i, id := range ids {
		out = append(out, state.Member{ID: id, Role: state.RoleHome, SIPListen: fmt.Sprintf("udp://10.0.0.%d:5060,tcp://10.0.0.%d:5061", i+1, i+1)})
	}
	return out
}

// TestAssignHome: the rule is deterministic, honours a reachable override,
// skips directors, listener-less and down members, and moves only the
// users of a member that leaves.
func TestAssignHome(t *testing.T) {
	ms := append(homes("n1", "n2", "n3"), state.Member{ID: "d1", Role: state.RoleDirector, SIPListen: "udp://10.0.0.9:5060"},
		state.Member{ID: "n4", Role: state.RoleHome})
	count := map[string]int{}
	before := map[string]string{}
	for i := range 300 {
		aor := fmt.Sprintf("user%d@example.com", i)
		m, ok := AssignHome(aor, "", ms, nil)
		again, _ := AssignHome(aor, "", []state.Member{ms[2], ms[0], ms[4], ms[1], ms[3]}, nil)
		if !ok || m.ID != again.ID {
			t.Fatalf("%s: %s, then %s with the members reordered", aor, m.ID, again.ID)
		}
		count[m.ID]++
		before[aor] = m.ID
	}
	for _, id := range []string{"n1", "n2", "n3"} {
		if count[id] < 50 {
			t.Errorf("%s got %d of 300 users: %v", id, count[id], count)
		}
	}
	if count["d1"]+count["n4"] != 0 {
		t.Errorf("a director or a member without listeners got users: %v", count)
	}
	down := func(id string) bool { return id == "n2" }
	for aor, was := range before {
		m, _ := AssignHome(aor, "", ms, down)
		if (was != "n2" && m.ID != was) || m.ID == "n2" {
			t.Fatalf("%s moved from %s to %s when n2 went down", aor, was, m.ID)
		}
	}
	for _, tc := range []struct{ override, want string }{{"n3", "n3"}, {"n2", ""}, {"d1", ""}, {"nx", ""}} {
		m, _ := AssignHome("user1@example.com", tc.override, ms, down)
		rule, _ := AssignHome("user1@example.com", "", ms, down)
		want := tc.want
		if want == "" {
			want = rule.ID // an unusable override falls back to the rule
		}
		if m.ID != want {
			t.Errorf("override %s: %s, want %s", tc.override, m.ID, want)
		}
	}
	if _, ok := AssignHome("a@b", "", ms[3:4], nil); ok {
		t.Error("a cluster of directors assigned a home")
	}
}
