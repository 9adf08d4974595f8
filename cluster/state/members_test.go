package state

import (
	"bytes"
	"errors"
	"testing"
)

func TestMembersPutDeleteSnapshot(t *testing.T) {
	s := New()
	n1 := Member{ID: "n1", RaftAddr: "127.0.0.1:7001", SIPAddr: "sip:127.0.0.1:5071;transport=tcp", Role: RoleHome, SIPListen: "udp://127.0.0.1:5061,tcp://127.0.0.1:5061"}
	n2 := Member{ID: "n2", RaftAddr: "127.0.0.1:7002", Role: RoleDirector}
	for i, tc := range []struct {
		typ  CommandType
		body any
		want error
	}{
		{CmdMemberPut, MemberPut{Member: n2}, nil},
		{CmdMemberPut, MemberPut{Member: n1}, nil},
		{CmdMemberPut, MemberPut{Member: Member{Role: RoleHome}}, ErrInvalid},
		{CmdMemberDelete, MemberDelete{ID: "n9"}, nil}, // deleting what is not there is harmless
	} {
		res := s.Apply(uint64(i+1), mustEncode(t, tc.typ, "", 1, tc.body))
		if err, _ := res.(error); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("command %d: %v, want %v", i, res, tc.want)
		}
	}
	got := s.Members()
	if len(got) != 2 || got[0].ID != "n1" || got[1].ID != "n2" || got[0].SIPListen != n1.SIPListen {
		t.Fatalf("members = %+v", got)
	}
	var buf bytes.Buffer
	if _, err := s.Snapshot().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r := New()
	if err := r.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if m, ok := r.Member("n1"); !ok || m.SIPAddr != n1.SIPAddr || m.Role != RoleHome {
		t.Fatalf("restored n1 = %+v %v", m, ok)
	}
	// An update with only some fields keeps the others.
	s.Apply(8, mustEncode(t, CmdMemberPut, "", 2, MemberPut{Member: Member{ID: "n1", SIPAddr: "sip:127.0.0.1:6000;transport=tcp"}}))
	if m, _ := s.Member("n1"); m.SIPAddr != "sip:127.0.0.1:6000;transport=tcp" || m.RaftAddr != n1.RaftAddr || m.SIPListen != n1.SIPListen {
		t.Fatalf("after a partial update n1 = %+v", m)
	}
	s.Apply(9, mustEncode(t, CmdMemberDelete, "", 2, MemberDelete{ID: "n1"}))
	if _, ok := s.Member("n1"); ok || len(s.Members()) != 1 {
		t.Fatalf("n1 still there: %+v", s.Members())
	}
}
