package router

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/parley-rtc/parley/cluster/state"
)

// The assignment rule (docs/architecture.md, "Assignment rule"): which
// member is a user's home node. A director redirects REGISTER there
// (core/pipeline's home_director.go).

// AssignHome is the assignment rule: the user's own home override when it
// names a reachable home member, otherwise rendezvous (highest random
// weight) hashing of the AOR over the reachable members with role home
// that have client listeners: the member whose SHA-256(aor NUL id) is
// highest. Adding or removing a member moves only the users it wins or
// held; the rule needs no coordination, every node computes the same
// answer from the same member table. ok is false when no home member is
// reachable.
func AssignHome(aor, override string, members []state.Member, down func(string) bool) (state.Member, bool) {
	var best state.Member
	var bestScore uint64
	found := false
	for _, m := range members {
		if m.Role != state.RoleHome || m.SIPListen == "" || (down != nil && down(m.ID)) {
			continue
		}
		if m.ID == override {
			return m, true
		}
		h := sha256.Sum256([]byte(aor + "\x00" + m.ID))
		score := binary.BigEndian.Uint64(h[:8])
		if !found || score > bestScore || (score == bestScore && m.ID < best.ID) {
			best, bestScore, found = m, score, true
		}
	}
	return best, found
}
