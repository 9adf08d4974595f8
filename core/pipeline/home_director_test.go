package pipeline

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

func TestHomeContact(t *testing.T) {
	m := homes("n1")[0]
	for _, tc := range []struct{ scheme, want string }{
		{"udp", "sip:example.com:5060;maddr=10.0.0.1"},
		{"tcp", "sip:example.com:5061;maddr=10.0.0.1;transport=tcp"},
		{"ws", "sip:example.com:5060;maddr=10.0.0.1"}, // no ws listener: the first one
	} {
		u, ok := homeContact(m, tc.scheme, "example.com")
		if !ok || u.String() != tc.want {
			t.Errorf("%s: %s %v, want %s", tc.scheme, u.String(), ok, tc.want)
		}
	}
	if _, ok := homeContact(state.Member{SIPListen: "junk"}, "udp", "example.com"); ok {
		t.Error("a malformed listener made a contact")
	}
}
