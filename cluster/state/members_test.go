package state

import (
	"bytes"
	"errors"
	"testing"
)

func TestMembers(t *testing.T) {
	s := New()
	steps := []struct {
		name    string
		typ     CommandType
		body    any
		wantErr error
		want    []Member
	}{
		{name: "leader adds n2", typ: CmdMemberPut,
			body: MemberPut{Member: Member{ID: "n2", RaftAddr: "10.0.0.2:7060", Suffrage: SuffrageVoter}},
			want: []Member{{ID: "n2", RaftAddr: "10.0.0.2:7060", Suffrage: SuffrageVoter}}},
		{name: "n2 writes its own entry; empty fields keep", typ: CmdMemberPut,
			body: MemberPut{Member: Member{ID: "n2", AdminURL: "http://10.0.0.2:8060", SIPAddr: "sip:10.0.0.2:5060;transport=tcp", Role: "home"}},
			want: []Member{{ID: "n2", RaftAddr: "10.0.0.2:7060", AdminURL: "http://10.0.0.2:8060", SIPAddr: "sip:10.0.0.2:5060;transport=tcp", Role: "home", Suffrage: SuffrageVoter}}},
		{name: "n1 sorts first", typ: CmdMemberPut,
			body: MemberPut{Member: Member{ID: "n1", RaftAddr: "10.0.0.1:7060"}},
			want: []Member{{ID: "n1", RaftAddr: "10.0.0.1:7060"}, {ID: "n2", RaftAddr: "10.0.0.2:7060", AdminURL: "http://10.0.0.2:8060", SIPAddr: "sip:10.0.0.2:5060;transport=tcp", Role: "home", Suffrage: SuffrageVoter}}},
		{name: "no id", typ: CmdMemberPut, body: MemberPut{Member: Member{RaftAddr: "x:1"}}, wantErr: ErrInvalid},
		{name: "bad suffrage", typ: CmdMemberPut, body: MemberPut{Member: Member{ID: "n3", Suffrage: "king"}}, wantErr: ErrInvalid},
		{name: "delete n2", typ: CmdMemberDelete, body: MemberDelete{ID: "n2"},
			want: []Member{{ID: "n1", RaftAddr: "10.0.0.1:7060"}}},
		{name: "delete unknown", typ: CmdMemberDelete, body: MemberDelete{ID: "n9"}, wantErr: ErrNotFound},
	}
	var last []Member
	for i, st := range steps {
		res := s.Apply(uint64(i+1), mustEncode(t, st.typ, "", int64(i), st.body))
		err, _ := res.(error)
		if !errors.Is(err, st.wantErr) || (st.wantErr == nil && res != nil) {
			t.Fatalf("%s: result %v, want %v", st.name, res, st.wantErr)
		}
		want := st.want
		if st.wantErr != nil {
			want = last
		}
		got := s.Members()
		if len(got) != len(want) {
			t.Fatalf("%s: members %+v, want %+v", st.name, got, want)
		}
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("%s: member %d = %+v, want %+v", st.name, j, got[j], want[j])
			}
		}
		last = want
	}
	if m, ok := s.Member("n1"); !ok || m.RaftAddr != "10.0.0.1:7060" {
		t.Fatalf("Member(n1) = %+v, %v", m, ok)
	}
	if _, ok := s.Member("n2"); ok {
		t.Fatal("deleted member still found")
	}

	// Members survive a snapshot.
	var buf bytes.Buffer
	if _, err := s.Snapshot().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r := New()
	if err := r.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if m, ok := r.Member("n1"); !ok || m.RaftAddr != "10.0.0.1:7060" {
		t.Fatalf("after restore Member(n1) = %+v, %v", m, ok)
	}
}
