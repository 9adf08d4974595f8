package state

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestPartners(t *testing.T) {
	kam := Partner{Domain: "kam.example", Identity: "sip.kam.example", NextHop: "sip:127.0.0.5:5061;transport=tls"}
	cases := []struct {
		name    string
		typ     CommandType
		body    any
		wantErr error
		want    []string // domains on the list afterwards
	}{
		{"no domain", CmdPartnerPut, PartnerPut{Partner: Partner{Identity: "x"}}, ErrInvalid, nil},
		{"domain with user", CmdPartnerPut, PartnerPut{Partner: Partner{Domain: "a@b"}}, ErrInvalid, nil},
		{"upper case identity", CmdPartnerPut, PartnerPut{Partner: Partner{Domain: "b.example", Identity: "B.example"}}, ErrInvalid, nil},
		{"add kam", CmdPartnerPut, PartnerPut{Partner: kam}, nil, []string{"kam.example"}},
		{"add other", CmdPartnerPut, PartnerPut{Partner: Partner{Domain: "a.example", DNSName: "sip.a.example"}}, nil, []string{"a.example", "kam.example"}},
		{"replace kam", CmdPartnerPut, PartnerPut{Partner: kam}, nil, []string{"a.example", "kam.example"}},
		{"delete unknown", CmdPartnerDelete, PartnerDelete{Domain: "zz.example"}, ErrNotFound, []string{"a.example", "kam.example"}},
		{"delete other", CmdPartnerDelete, PartnerDelete{Domain: "a.example"}, nil, []string{"kam.example"}},
	}
	s := New()
	var changes int
	s.Observe(func(ch []Change) {
		for _, c := range ch {
			if c.Kind == PartnersChanged {
				changes++
			}
		}
	})
	okWrites := 0
	for i, tc := range cases {
		res := s.Apply(uint64(i+1), mustEncode(t, tc.typ, tc.name, int64(i), tc.body))
		err, _ := res.(error)
		if !errors.Is(err, tc.wantErr) {
			t.Fatalf("%s: result %v, want %v", tc.name, res, tc.wantErr)
		}
		if err == nil {
			okWrites++
		}
		var got []string
		for _, p := range s.Partners() {
			got = append(got, p.Domain)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("%s: partners %v, want %v", tc.name, got, tc.want)
		}
	}
	if changes != okWrites {
		t.Fatalf("%d partner changes observed, want %d", changes, okWrites)
	}
	if p, ok := s.Partner("KAM.example"); !ok || p != kam {
		t.Fatalf("lookup: %#v %v", p, ok)
	}
	// The list survives a snapshot and restore.
	var buf bytes.Buffer
	if _, err := s.Snapshot().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r := New()
	if err := r.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Partners(), s.Partners()) {
		t.Fatalf("after restore %v, want %v", r.Partners(), s.Partners())
	}
}

// TestPartnersDeterministic applies the same log to two states and
// compares their snapshots byte for byte.
func TestPartnersDeterministic(t *testing.T) {
	var log [][]byte
	for i, d := range []string{"c.example", "a.example", "b.example"} {
		log = append(log, mustEncode(t, CmdPartnerPut, d, int64(i), PartnerPut{Partner: Partner{Domain: d, Identity: "sip." + d}}))
	}
	log = append(log, mustEncode(t, CmdPartnerDelete, "del", 9, PartnerDelete{Domain: "b.example"}))
	snap := func() []byte {
		s := New()
		for i, e := range log {
			s.Apply(uint64(i+1), e)
		}
		var buf bytes.Buffer
		if _, err := s.Snapshot().WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if a, b := snap(), snap(); !bytes.Equal(a, b) {
		t.Fatalf("snapshots differ:\n%s\n%s", a, b)
	}
}
